/**
 * The profiling run's page (`profile_report.html`, offline, one file): per plate its wells, cells
 * and annotation, a plate-layout heatmap of cells per well (the first look a screener takes at a
 * plate: empty wells, edge effects, a failed row), feature selection with what each operation
 * removed, and every warning.
 */
import { renderFigure, baseConfig, type Figure } from './render.js';
import { esc } from './escape.js';
import { writeFileAtomic } from '../util/atomic.js';

export interface PlateCells {
  readonly plate: string;
  /** Well name → cells (linked cells, or the first compartment's objects). */
  readonly cells: Record<string, number>;
}

export interface ProfilePageInput {
  readonly title: string;
  readonly plates: readonly { plate: string; source: string; wells: number; cells: number; annotated?: string; reference?: number }[];
  readonly cellsPerWell: readonly PlateCells[];
  readonly featureSelection: readonly { operation: string; featuresIn: number; removed: number }[] | null;
  readonly features: { in: number; out: number } | null;
  readonly outputs: readonly { what: string; path: string }[];
  readonly warnings: readonly string[];
}

const WELL = /^([A-Za-z]+)0*(\d+)$/;

/** Cells per well laid out as the plates are (rows A…, columns 1…), one panel per plate. */
export function plateLayoutFigure(plates: readonly PlateCells[], name = 'cells_per_well'): Promise<Figure> {
  const values: { plate: string; row: string; col: number; cells: number; well: string }[] = [];
  for (const p of plates) {
    for (const [well, cells] of Object.entries(p.cells)) {
      const m = WELL.exec(well);
      if (m) values.push({ plate: p.plate, row: m[1]!.toUpperCase(), col: Number(m[2]), cells, well });
    }
  }
  const rows = [...new Set(values.map((v) => v.row))].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  return renderFigure(name, {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: baseConfig,
    title: 'Cells per well',
    data: { values },
    facet: { field: 'plate', type: 'nominal', title: null },
    columns: 2,
    spec: {
      width: 24 * 14,
      height: rows.length * 14,
      mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
      encoding: {
        x: { field: 'col', type: 'ordinal', title: null, axis: { labelAngle: 0, labelFontSize: 8 } },
        y: { field: 'row', type: 'ordinal', title: null, sort: rows, axis: { labelFontSize: 8 } },
        color: { field: 'cells', type: 'quantitative', title: 'cells', scale: { scheme: 'viridis' } },
        tooltip: [{ field: 'plate' }, { field: 'well' }, { field: 'cells' }],
      },
    },
  } as never);
}

/** Write the page; returns its path. */
export async function writeProfilePage(path: string, inp: ProfilePageInput): Promise<string> {
  const figure = inp.cellsPerWell.length ? await plateLayoutFigure(inp.cellsPerWell) : null;
  const rows = inp.plates
    .map((p) => `<tr><td>${esc(p.plate)}</td><td>${esc(p.source)}</td><td>${p.wells}</td><td>${p.cells}</td><td>${esc(p.annotated ?? '—')}</td><td>${p.reference ?? '—'}</td></tr>`)
    .join('\n');
  const fs = inp.featureSelection
    ? `<table><tr><th>operation</th><th>features in</th><th>removed</th></tr>${inp.featureSelection.map((o) => `<tr><td>${esc(o.operation)}</td><td>${o.featuresIn}</td><td>${o.removed}</td></tr>`).join('')}</table>`
    : '<p>No feature selection.</p>';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(inp.title)}</title>
<style>body{font-family:${esc(baseConfig.font)};margin:24px;max-width:1100px}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:13px}th{background:#f4f4f4}.muted{color:#666}</style>
</head><body>
<h1>${esc(inp.title)}</h1>
<h2>Plates</h2>
<table><tr><th>plate</th><th>source</th><th>wells</th><th>cells</th><th>annotated wells</th><th>reference wells</th></tr>
${rows}</table>
${figure ? `<h2>Cells per well</h2>${figure.svg}` : ''}
<h2>Features</h2>
${inp.features ? `<p>${inp.features.in} features in, ${inp.features.out} kept.</p>` : ''}
${fs}
<h2>Outputs</h2>
<ul>${inp.outputs.map((o) => `<li>${esc(o.what)}: <code>${esc(o.path)}</code></li>`).join('')}</ul>
<h2>Warnings (${inp.warnings.length})</h2>
${inp.warnings.length ? `<ul>${inp.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '<p class="muted">none</p>'}
</body></html>
`;
  writeFileAtomic(path, html);
  return path;
}
