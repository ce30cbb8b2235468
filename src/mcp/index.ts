export { createMcpServer, serveHttp, serveStdio } from './server.ts';
export type { HttpOptions, RunningHttpServer, RunningServer, ServerInfo, ToolSource } from './server.ts';
