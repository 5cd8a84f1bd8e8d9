import { LazyStreamMeter, Usage } from './provider';

/** For providers that do not stream: whatever arrives as SSE reports nothing. */
export class NoStreamMeter extends LazyStreamMeter {
  usage(): Usage | null {
    return null;
  }
  outputText(): string {
    return '';
  }
}
