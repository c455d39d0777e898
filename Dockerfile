# Build: docker build -t <registry>/argoos:0.1.0 . && docker push <registry>/argoos:0.1.0
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY cli/ cli/
COPY lib/ lib/
# `deno task compile` -> dist/argoos: one self-contained binary with its permissions baked in.
# deno.json freezes the lock, so this fails rather than resolve versions other than deno.lock's.
RUN deno task compile

# distroless/cc has the glibc/libstdc++ the Deno runtime links against, and nothing else.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/dist/argoos /argoos
# Size V8's heap from the container's memory limit rather than the node's memory; the compile
# task's --max-old-space-size=128 bounds it further, within the manifest's 256Mi (README, "Memory").
ENV DENO_USE_CGROUPS=1
USER 65532:65532
ENTRYPOINT ["/argoos"]
CMD ["serve"]
