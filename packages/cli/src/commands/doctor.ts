import { LatchkeyCommand, jsonFlag } from '../base-command.js';
import { describeDoctor, doctorInputs, runDoctor, type DoctorReport } from '../doctor/doctor.js';

export default class Doctor extends LatchkeyCommand {
  static summary = 'Check the set-up and say how to fix what is wrong.';
  static description =
    'Checks the Node version, the config directory and its permissions, where `auto` storage would keep secrets (and why not the keychain), proxy and CA settings, each installed plugin, stale locks and orphaned secrets. Each problem comes with its fix. Exit 0 when nothing needs fixing, 1 when something does. Reads only: nothing is changed.';
  static examples = [
    { command: '<%= config.bin %> doctor', description: 'Check everything.' },
    { command: '<%= config.bin %> doctor --json', description: 'The findings, for scripts.' },
  ];
  static flags = { json: jsonFlag };
  // A bad LATCHKEY_STORAGE is one of the findings here, not a reason to stop.
  protected checkStorageSetting = false;

  async run(): Promise<DoctorReport> {
    await this.parse(Doctor);
    const report = await runDoctor(doctorInputs(this.config, this.runtime.env));
    if (!this.jsonEnabled()) this.runtime.out(describeDoctor(report));
    // Set before returning: the envelope's `status` is this exit code.
    process.exitCode = report.problems > 0 ? 1 : 0;
    return report;
  }
}
