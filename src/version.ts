// Kept in step with package.json by a test (test/version.test.ts).
export const PACKAGE_NAME = 'scanopy-metrics';
export const VERSION = '0.1.0';
