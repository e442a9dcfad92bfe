// A vitest reporter that scripts/test.mjs adds beside the default one: at the end of a package's run it
// writes that package's counts to $LATCHKEY_TEST_RESULTS/<package>.json, so the runner can sum every
// package's tests into one line. A file that failed without a failed test (an error while loading it, or
// in a hook), an error outside any test, and an interrupted run each count as one failure, so a run that
// went wrong never reads as "0 failed". Without LATCHKEY_TEST_RESULTS it does nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export default class SummaryReporter {
  onTestRunEnd(testModules, unhandledErrors, reason) {
    const dir = process.env.LATCHKEY_TEST_RESULTS;
    if (!dir) return;
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const failures = [];
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed += 1;
        else if (state === 'skipped') counts.skipped += 1;
        else if (state === 'failed') {
          counts.failed += 1;
          failedHere += 1;
          failures.push(`${module.relativeModuleId} > ${test.fullName}`);
        }
      }
      if (failedHere === 0 && module.state() === 'failed') {
        counts.failed += 1;
        failures.push(`${module.relativeModuleId} (the file itself: an error outside its tests)`);
      }
    }
    for (const error of unhandledErrors) {
      counts.failed += 1;
      failures.push(`an unhandled error: ${String(error?.message ?? error).split('\n')[0]}`);
    }
    if (reason === 'interrupted') {
      counts.failed += 1;
      failures.push('the run was interrupted');
    }
    const { name } = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8'));
    const file = join(dir, `${name.replace(/[^\w.-]+/g, '+')}.json`);
    writeFileSync(file, JSON.stringify({ package: name, ...counts, failures }));
  }
}
