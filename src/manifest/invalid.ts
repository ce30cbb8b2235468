import { AirlockError, type Problem } from '../errors.ts';

/** The error of a manifest with problems (loadPlugin and its off-thread twin). */
export function invalidManifest(file: string, problems: Problem[]): AirlockError {
  return new AirlockError('invalid-manifest', `${file}: ${problems.length} problem(s) in the plugin manifest`, { problems });
}
