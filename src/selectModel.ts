/**
 * "Glassbox: Select Model": the embedded model, a model folder on disk, or (when a folder holds
 * several .onnx files) which file. The choice is stored in settings; the engine host reloads.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EMBEDDED_MODEL } from './engine/embedded';
import { listOnnxFiles } from './engine/modelFolder';
import { SECTION } from './config';
import type { EngineHost } from './engineHost';

interface Pick extends vscode.QuickPickItem {
  action: 'embedded' | 'folder' | 'current';
}

export async function selectModel(host: EngineHost): Promise<void> {
  const current = host.info;
  const items: Pick[] = [
    { label: `$(package) Embedded model`, description: EMBEDDED_MODEL, detail: 'Ships with Glassbox; works offline.', action: 'embedded' },
    { label: '$(folder-opened) Open model folder…', detail: 'A Hugging Face / Optimum / transformers.js or ONNX Runtime GenAI folder with an .onnx decoder and tokenizer.json.', action: 'folder' },
  ];
  if (current) items.push({ label: `$(check) Keep ${current.name}`, description: current.dir, action: 'current' });
  const pick = await vscode.window.showQuickPick(items, { title: 'Glassbox: Select Model', placeHolder: current ? `Now: ${current.name}` : undefined });
  if (!pick || pick.action === 'current') return;
  const cfg = vscode.workspace.getConfiguration(SECTION);
  if (pick.action === 'embedded') {
    await cfg.update('modelPath', undefined, vscode.ConfigurationTarget.Global);
    await cfg.update('modelFile', undefined, vscode.ConfigurationTarget.Global);
    return;
  }
  const folders = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use this model' });
  if (!folders?.length) return;
  const dir = folders[0].fsPath;
  const onnx = listOnnxFiles(dir);
  let file: string | undefined;
  if (onnx.length > 1) {
    file = await vscode.window.showQuickPick(onnx, { title: `${path.basename(dir)} holds several ONNX files: which one?` });
    if (!file) return;
  }
  // One settings change triggers one reload (see extension.ts); write the file first.
  await cfg.update('modelFile', file, vscode.ConfigurationTarget.Global);
  await cfg.update('modelPath', dir, vscode.ConfigurationTarget.Global);
}
