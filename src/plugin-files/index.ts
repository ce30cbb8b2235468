/** Reading a hostile plugin folder within fixed bounds: files, trees, copies and ignore files. */
export { fileError, isMissing, type FileErrorCode } from './fail.ts';
export { folder, folderSync, isInside, type Folder } from './inside.ts';
export { MAX_COMPONENT_BYTES, MAX_IGNORE_BYTES, MAX_MANIFEST_BYTES, MAX_WIT_BYTES, TREE_LIMITS, type TreeLimits } from './limits.ts';
export { checkPluginFileSync, openPluginFile, readPluginFile, readPluginFileChunks, readPluginFileSync, type ReadOptions } from './read.ts';
export { listFolder, walkPluginTree, type TreeEntry, type WalkOptions } from './walk.ts';
export { copyPluginTree } from './copy.ts';
export { DEFAULT_IGNORES, IGNORE_FILES, ignoreMatcher, pluginIgnore, pluginIgnoreSync, type Ignore } from './ignore.ts';
export { compileGlob, matchGlob } from './glob.ts';
export { extractTar, tar, tarStream, type TarEntry } from './tar.ts';
