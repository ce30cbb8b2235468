/**
 * The environment that points a plugin's HTTP clients at its egress proxy, the same on every engine that
 * runs the proxy beside the plugin (Docker, Kubernetes). NO_PROXY is set empty so that an image's own
 * default cannot exempt a host; NODE_USE_ENV_PROXY makes Node's fetch and http honour the variables.
 */
export function proxyEnv(url: string): Record<string, string> {
  return { HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, https_proxy: url, NO_PROXY: '', no_proxy: '', NODE_USE_ENV_PROXY: '1' };
}
