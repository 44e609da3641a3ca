/**
 * Vega-Lite spec → SVG (vega's headless `View.toSVG()`, renderer 'none': no browser, no canvas)
 * → PNG (resvg). Text needs a font in resvg: system fonts are loaded, plus the usual Debian font
 * files when present; without any font the PNG still renders (shapes only) and the SVG keeps
 * its text for browsers.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import { writeFileAtomic } from '../util/atomic.js';

export type VlSpec = TopLevelSpec;

export interface Figure {
  name: string;
  spec: VlSpec;
  svg: string;
  png: Uint8Array;
  /** PNG size in pixels. */
  width: number;
  height: number;
}

export const FONT_FAMILY = 'DejaVu Sans, Liberation Sans, Lato, Arial, Helvetica, sans-serif';

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

let fontFiles: string[] | undefined;
function knownFontFiles(): string[] {
  fontFiles ??= FONT_CANDIDATES.filter((p) => existsSync(p));
  return fontFiles;
}

/** Common look: white background, one font everywhere, compact titles. */
export const baseConfig = {
  background: 'white',
  // No ARIA labels per mark: they triple the SVG size of heatmaps and scatters.
  aria: false,
  font: FONT_FAMILY,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  title: { fontSize: 14, anchor: 'start' as const },
};

export async function specToSvg(spec: VlSpec): Promise<string> {
  const vg = compile(spec).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string, scale = 2): { png: Uint8Array; width: number; height: number } {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    // Scanning every system font costs ~100 ms per figure: use the known files when present.
    font: { loadSystemFonts: knownFontFiles().length === 0, fontFiles: knownFontFiles(), defaultFontFamily: 'DejaVu Sans' },
  });
  const img = r.render();
  return { png: new Uint8Array(img.asPng()), width: img.width, height: img.height };
}

export async function renderFigure(name: string, spec: VlSpec, scale = 2): Promise<Figure> {
  const svg = await specToSvg(spec);
  const { png, width, height } = svgToPng(svg, scale);
  return { name, spec, svg, png, width, height };
}

/** Write `name.svg` and `name.png` into dir (atomically); returns their paths. */
export function writeFigure(dir: string, fig: Figure): { svg: string; png: string } {
  const svg = join(dir, `${fig.name}.svg`);
  const png = join(dir, `${fig.name}.png`);
  writeFileAtomic(svg, fig.svg);
  writeFileAtomic(png, fig.png);
  return { svg, png };
}
