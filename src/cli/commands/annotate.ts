import { Option, type Command } from 'commander';
import { joinAnnotations, KEY_KINDS, type KeyKind } from '../../io/join.js';
import { readTable } from '../../io/read.js';
import { annotatePlatemap } from '../../preprocess/annotate.js';
import { UsageError } from '../../util/errors.js';
import { terminalReporter } from '../terminal.js';
import { addIoOptions, printLines, readInput, writeOutput, type ReadFlags } from './preprocessShared.js';

interface AnnotateFlags extends ReadFlags {
  barcodePlatemap?: string;
  platemapDir?: string;
  platemap?: string;
  plateCol: string;
  wellCol: string;
  platemapWellCol: string;
  compounds?: string;
  profileKey?: string;
  tableKey?: string;
  keyKind: KeyKind;
}

export function register(program: Command): void {
  const cmd = program
    .command('annotate')
    .description('add each well\'s plate-map columns (profiling recipe: barcode_platemap.csv + platemap/<name>.txt) and, optionally, compound metadata; wells without an entry are kept and counted')
    .argument('<profiles...>', 'well profiles (e.g. from cells aggregate); several files, a glob or a folder are stacked')
    .option('--barcode-platemap <file>', 'barcode_platemap.csv: Assay_Plate_Barcode → Plate_Map_Name')
    .option('--platemap-dir <dir>', 'folder of <Plate_Map_Name>.txt (default: platemap/ beside the barcode file)')
    .option('--platemap <file>', 'one plate map for every plate (instead of --barcode-platemap)')
    .option('--plate-col <column>', 'plate column of the profiles', 'Metadata_Plate')
    .option('--well-col <column>', 'well column of the profiles', 'Metadata_Well')
    .option('--platemap-well-col <column>', 'well column of the plate map', 'well_position')
    .option('--compounds <file>', 'compound metadata table joined after the plate map (MoA, target, …)')
    .option('--profile-key <column>', 'with --compounds: profiles\' key column (e.g. Metadata_broad_sample)')
    .option('--table-key <column>', 'with --compounds: the table\'s key column (e.g. broad_sample)')
    .addOption(new Option('--key-kind <kind>', 'with --compounds: how keys compare').choices([...KEY_KINDS]).default('name'));
  addIoOptions(cmd).action(async (file: string[], flags: AnnotateFlags) => {
    const reporter = terminalReporter({ quiet: flags.quiet || flags.json });
    let profiles = await readInput(file, flags, reporter);
    const lines: string[] = [];
    const out: Record<string, unknown> = {};
    if (flags.barcodePlatemap || flags.platemap) {
      const r = await annotatePlatemap(profiles, {
        barcodePlatemap: flags.barcodePlatemap, platemapDir: flags.platemapDir, platemap: flags.platemap,
        plateColumn: flags.plateCol, wellColumn: flags.wellCol, platemapWellColumn: flags.platemapWellCol,
      });
      profiles = r.profiles;
      for (const w of r.report.warnings) reporter.warn(w);
      out.platemap = r.report;
      lines.push(`plate map: ${r.report.matched}/${r.report.matched + r.report.unmatched} wells annotated; added ${r.report.addedColumns.join(', ')}`);
    }
    if (flags.compounds) {
      if (!flags.profileKey || !flags.tableKey) throw new UsageError('--compounds needs --profile-key and --table-key');
      const j = joinAnnotations(profiles, await readTable(flags.compounds), { profileKey: flags.profileKey, tableKey: flags.tableKey, keyKind: flags.keyKind });
      profiles = j.profiles;
      if (j.unmatched) reporter.warn(`${j.unmatched} well(s) found no row in ${flags.compounds} (kept unannotated; e.g. ${j.unmatchedKeys.slice(0, 5).join(', ')})`);
      out.compounds = { matched: j.matched, unmatched: j.unmatched, unmatchedKeys: j.unmatchedKeys, added: j.addedColumns };
      lines.push(`compounds: ${j.matched}/${j.matched + j.unmatched} wells matched; added ${j.addedColumns.join(', ')}`);
    }
    if (!lines.length) throw new UsageError('annotate needs --barcode-platemap, --platemap or --compounds');
    await writeOutput(flags.out, profiles);
    printLines(flags.json ? [JSON.stringify({ ...out, out: flags.out }, null, 2)] : [...lines, `wrote ${flags.out}`]);
  });
}
