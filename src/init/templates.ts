/** The templates `airlock init` writes (runtimes/templates/<name>). */
export const TEMPLATES = ['js', 'c', 'python', 'node', 'rust', 'python-docker'] as const;
export type TemplateName = (typeof TEMPLATES)[number];
