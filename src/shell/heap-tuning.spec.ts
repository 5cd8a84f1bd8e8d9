import { tuneHeapGrowth } from './heap-tuning';

describe('tuneHeapGrowth', () => {
  it('given no heap-growing flag on the command line, when tuned, then it sets the growth', () => {
    expect(tuneHeapGrowth(['--max-semi-space-size=64'])).toBe(true);
  });

  it('given the operator chose a heap-growing percent, when tuned, then their choice stands', () => {
    expect(tuneHeapGrowth(['--heap-growing-percent=50'])).toBe(false);
    expect(tuneHeapGrowth(['--max-semi-space-size=64', '--heap-growing-percent'])).toBe(false);
  });
});
