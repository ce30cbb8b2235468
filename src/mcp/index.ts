export { createMcpServer, serveHttp, serveStdio } from './server.ts';
export type { HttpOptions, RunningHttpServer, RunningServer, ServerInfo, ToolSource } from './server.ts';
export { bearerCheck, generateToken, isLoopbackHost } from './auth.ts';
export { checkToken, readTokenFile, removeTokenFile, tokenDir, tokenFilePath, writeTokenFile } from './token-file.ts';
export { airlockServeLaunch, CLIENT_CONFIG_FILES, cliEntry, clientConfig, ClientConfigError, MCP_CLIENTS } from './client-config.ts';
export type { ClientConfigOptions, McpClient, StdioLaunch } from './client-config.ts';
