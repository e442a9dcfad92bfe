/**
 * The one way latchkey shows a time to people: local date and time with the UTC offset,
 * "2026-12-02 01:23:45 +01:00" (`auth status`, `auth login`, provider messages). `--json` fields keep
 * ISO 8601. Anything that is not a time is returned as it is.
 */
export function localTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const two = (n: number) => String(Math.abs(n)).padStart(2, '0');
  const offset = -at.getTimezoneOffset();
  const zone = `${offset < 0 ? '-' : '+'}${two(Math.trunc(offset / 60))}:${two(offset % 60)}`;
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())} ${zone}`;
}
