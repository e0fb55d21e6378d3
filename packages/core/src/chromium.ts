/**
 * How Kiln's browser tests and benchmarks start Debian's Chromium (installed by scripts/setup.sh).
 * The machines are offline: without the background-networking flags Chromium keeps trying to reach
 * Google and is refused; `--no-sandbox` because tests run as root.
 */
export function chromiumLaunchOptions(): { executablePath: string; args: string[] } {
  return {
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  };
}
