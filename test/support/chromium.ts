import * as fs from 'fs';

/** Debian's chromium, where CI installs it. */
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

const LOWERS_SECURITY = new Set(['--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials']);

export interface ChromiumLaunch {
  executablePath: string;
  /** Extra command-line switches the binary needs (the npm build's own; none for Debian's). */
  args: string[];
  source: 'CHROMIUM_PATH' | 'debian' | '@sparticuz/chromium';
}

/**
 * The Chromium the browser tests drive: `CHROMIUM_PATH` when set, Debian's `/usr/bin/chromium` when installed, and
 * otherwise the build that ships inside the `@sparticuz/chromium` devDependency (unpacked to /tmp on first use), so
 * `npm test` needs nothing installed but Node.
 */
export async function findChromium(): Promise<ChromiumLaunch> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH is ${fromEnv}, which does not exist.`);
    return { executablePath: fromEnv, args: [], source: 'CHROMIUM_PATH' };
  }
  if (fs.existsSync(DEBIAN_CHROMIUM)) return { executablePath: DEBIAN_CHROMIUM, args: [], source: 'debian' };
  const mod: any = await import('@sparticuz/chromium');
  const packaged = mod.default ?? mod;
  // Its switches are for a serverless sandbox; the ones that lower a page's security would hide what a test checks.
  const args = (packaged.args as string[]).filter((a) => !LOWERS_SECURITY.has(a));
  return { executablePath: await packaged.executablePath(), args, source: '@sparticuz/chromium' };
}
