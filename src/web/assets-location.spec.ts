import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { listAssets, resolveAssetsDir, resolveChartJs } from './assets-location';

describe('where the dashboard finds its files', () => {
  const here = path.join(__dirname);
  const assets = path.join(here, 'assets');

  test('from the working directory (npm start, ts-node from the repository root)', () => {
    expect(resolveAssetsDir(path.resolve(here, '..', '..'), '/nowhere')).toBe(assets);
  });

  test('from the compiled file when the working directory is elsewhere (dist/src/web -> src/web/assets)', () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-cwd-'));
    const compiledDir = path.resolve(here, '..', '..', 'dist', 'src', 'web');
    expect(resolveAssetsDir(elsewhere, compiledDir)).toBe(assets);
    expect(resolveAssetsDir(elsewhere, here)).toBe(assets);
  });

  test('says where it looked when the files are missing', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-none-'));
    expect(() => resolveAssetsDir(empty, empty)).toThrow(/assets were not found/);
  });

  test('serves only listed files of known types, and Chart.js from node_modules', () => {
    const files = listAssets(assets);
    expect([...files.keys()]).toEqual(expect.arrayContaining(['index.html', 'app.js', 'styles.css']));
    expect([...files.keys()].some((f) => f.endsWith('.ts'))).toBe(false);
    expect(resolveChartJs()).toMatch(/chart\.umd(\.min)?\.js$/);
  });
});
