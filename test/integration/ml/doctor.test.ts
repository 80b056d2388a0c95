/**
 * `mask-studio doctor --json` and the studio's `doctor.get` are one document: the CLI's output fits the
 * contract's schema, and the handler, called through dispatch, returns the same report.
 */
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispatch } from '../../../electron/core/api/dispatch';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { openLibrary } from '../../../electron/core/library';
import { DoctorReport } from '../../../shared/doctor';
import { parseJson, runCli, tempDir } from '../../helpers';

test('doctor --json fits the contract and equals doctor.get', async (t) => {
  const cli = await runCli(['doctor', '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const printed = DoctorReport.parse(parseJson<unknown>(cli.stdout));

  const lib = openLibrary(join(tempDir('doctor', t), 'lib'), { create: true });
  t.after(() => lib.close());
  const emit = () => {};
  const served = DoctorReport.parse(await dispatch({ lib, jobs: new JobRunner(lib.db, emit), emit }, 'doctor.get', {}));

  assert.deepEqual(served.chosen, printed.chosen);
  assert.deepEqual(served.backends, printed.backends);
  assert.deepEqual(served.weights, printed.weights);
  assert.equal(served.onnxRuntime.loads, printed.onnxRuntime.loads);
  // The one loaded backend the report names is one the probe says loads.
  assert.ok(served.backends.some((b) => b.loads && b.name.startsWith(served.chosen.name)), JSON.stringify(served.chosen));
});
