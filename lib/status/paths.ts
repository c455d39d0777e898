/**
 * Where the status page is served: the routes know these paths whether or not the page is on,
 * without loading the page's code.
 *
 * @module
 */

/**
 * The paths the status handler answers.
 *
 * @example
 * ```ts
 * import { STATUS_PATHS } from "./paths.ts";
 * STATUS_PATHS.has("/status"); // true
 * ```
 */
export const STATUS_PATHS: ReadonlySet<string> = new Set(["/status", "/api/v1/workloads"]);
