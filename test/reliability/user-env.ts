/** What the reliability tests start children with: a person's environment, not a CI machine's. */
/**
 * The environment without the variables that make ONNX Runtime think it runs in CI, where it skips its
 * telemetry by itself (and the crash with it): the test must see what a person's machine sees.
 */
export function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE',
    'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER', 'SYSTEM_TEAMFOUNDATIONCOLLECTIONURI', 'ORT_DISABLE_TELEMETRY', 'ORT_TELEMETRY_DISABLED']) {
    delete env[k];
  }
  return env;
}

/** 1,000 paths like /home/someone/photos/2024/holiday/IMG_000123.jpg: about 50 KB. */
export function longPaths(n = 1000): string[] {
  return Array.from({ length: n }, (_, i) => `/home/someone/photos/2024/holiday-by-the-sea/IMG_${String(i).padStart(6, '0')}.jpg`);
}
