/**
 * The classic builder's step lines (`Step N/M : …`) and a RUN step's output reach the host as the same kind
 * of message, so build-time plugin code (a Python package's setup.py) can print lines that look like steps.
 * Only the daemon's next step counts as one: N one more than the last, M the same as the first step said
 * (step 1 is FROM, before any plugin code runs). So a build has at most M steps however many look-alikes it
 * prints (each step is a progress notification to every call waiting for the build); the rest is output.
 */
const STEP = /^Step (\d+)\/(\d+) : /;

export class BuildSteps {
  #last = 0;
  #total: number | undefined;

  /** Whether `text` (one message of the build's stream) is the build's next step. */
  isStep(text: string): boolean {
    const m = STEP.exec(text);
    if (m === null) return false;
    const n = Number(m[1]);
    const total = Number(m[2]);
    if (n !== this.#last + 1 || n > total || (this.#total !== undefined && total !== this.#total)) return false;
    this.#last = n;
    this.#total = total;
    return true;
  }
}
