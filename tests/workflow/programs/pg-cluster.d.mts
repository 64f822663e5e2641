// Types of pg-cluster.mjs (a plain module so that bench/workflow.mjs can import it too).
export interface Cluster {
  url: string;
  port: number;
  dir: string;
  stop(): void;
}
export function postgresBin(): string | null;
export function startPostgres(options?: { fsync?: boolean; settings?: Record<string, string> }): Promise<Cluster>;
