export { createMcpServer, serveHttp, serveStdio } from './server.ts';
export type { HttpOptions, RunningHttpServer, RunningServer, ServerInfo, ToolSource } from './server.ts';
export { bearerCheck, generateToken, isLoopbackHost } from './auth.ts';
export { checkToken, readTokenFile, removeTokenFile, tokenDir, tokenFilePath, writeTokenFile } from './token-file.ts';
