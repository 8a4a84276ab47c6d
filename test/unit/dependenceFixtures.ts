import type { CompletionRequest } from '../../src/engine/completion/completion';

/** A prompt for test-tiny: two functions, a cursor inside a call, a snippet and a copy source. */
export const TINY: CompletionRequest = {
  prefix: 'def area(width, height):\n    return width * height\n\n\ndef main():\n    print(ar',
  suffix: ')\n\n# done\n',
  path: 'app.py',
  startLine: 0,
  maxNewTokens: 8,
  snippets: [
    {
      path: 'lib/shapes.py',
      startLine: 3,
      endLine: 6,
      score: 1,
      text: 'def perimeter(width, height):\n    return 2 * (width + height)\n',
    },
  ],
  copySources: [{ path: 'lib/more.py', startLine: 10, endLine: 12, score: 1, text: 'total = area(3, 4)\n' }],
};
