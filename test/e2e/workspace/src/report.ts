// Prints a summary of a finished job.

export interface Job {
  name: string;
  startedAt: number;
  finishedAt: number;
}

export function summary(job: Job): string {
  const took = job.finishedAt - job.startedAt;
  return `${job.name}: ${took} ms`;
}
