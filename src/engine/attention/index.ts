/** The attention explorer's engine side: capture, budget, head labels, rollout, logit lens. */
export { AttentionCapturer, captureAttention, releaseAttention } from './capture';
export { lineEdges, queryView, rolloutRow, rowSlot, type CaptureData, type LineEdges, type QueryView } from './analysis';
export { headStatsOf, labelFor } from './headScores';
export { planCapture } from './instrument';
export { planStorage } from './store';
export * from './types';
