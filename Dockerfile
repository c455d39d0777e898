# Build: docker build -t ghcr.io/argoos/argoos:0.1.0 .
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY cli/ cli/
COPY lib/ lib/
# `deno task compile` -> dist/argoos: one self-contained binary with its permissions baked in.
RUN deno task compile

# distroless/cc has the glibc/libstdc++ the Deno runtime links against, and nothing else.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/dist/argoos /argoos
USER 65532:65532
ENTRYPOINT ["/argoos"]
CMD ["serve"]
