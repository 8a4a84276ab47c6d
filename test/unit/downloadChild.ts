/**
 * Runs one download in its own process, so a test can kill it halfway (SIGKILL) the way a crash
 * or a closed VS Code would. Does nothing unless GLASSBOX_DOWNLOAD_CHILD holds its job as JSON
 * (node --test also loads this file, as it loads every .js under test/).
 */
import { Downloader, type DownloadRequest } from '../../src/modelHub/download';
import { HubClient } from '../../src/modelHub/hubClient';
import { ModelStore } from '../../src/modelHub/store';

interface ChildJob {
  hubUrl: string;
  storage: string;
  request: DownloadRequest;
}

async function main(job: ChildJob): Promise<void> {
  const downloader = new Downloader({
    store: new ModelStore(job.storage),
    hub: new HubClient(job.hubUrl),
    retryDelayMs: 10,
  });
  const plan = await downloader.plan(job.request);
  await downloader.download(plan, { onProgress: (p) => process.stdout.write(JSON.stringify(p) + '\n') });
  process.stdout.write('{"done":true}\n');
}

const raw = process.env.GLASSBOX_DOWNLOAD_CHILD;
if (raw) {
  main(JSON.parse(raw) as ChildJob).catch((err) => {
    process.stderr.write(String(err?.stack ?? err) + '\n');
    process.exit(1);
  });
}
