/**
 * Is the wall clock plausible? A board without a real-time clock starts in
 * 1970 until NTP sets it; any time before this software was built cannot be
 * right (issue 13). build.mjs injects the build time with esbuild `define`;
 * run from source (tests) the first day of 2026 stands in.
 */
declare const TICKETLINE_BUILD_TIME: string | undefined;

export const BUILD_TIME: number =
  typeof TICKETLINE_BUILD_TIME === 'string' && Number.isFinite(Date.parse(TICKETLINE_BUILD_TIME))
    ? Date.parse(TICKETLINE_BUILD_TIME)
    : Date.UTC(2026, 0, 1);

/** undefined when plausible, else the reason. */
export function clockProblem(now: Date, built = BUILD_TIME): string | undefined {
  if (now.getTime() >= built) return undefined;
  return `it says ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC, before this software was built (${new Date(built).toISOString().slice(0, 10)})`;
}
