/**
 * The compiler side of synth's type check (constructs/typecheck.ts is the side the app
 * imports): an incremental program over the entry and what it imports, with the options of
 * tsconfig.synth.json. Kept out of the app's import graph on purpose, so the checked program
 * does not include the compiler's own 1 MB of declarations; it is loaded by path, in-process
 * (`typecheck()`), in a worker thread, or in the warm checker (constructs/typecheck-server.ts).
 *
 * One `ProgramChecker` can check again and again (the warm checker does): every check reads
 * every file again and re-parses only those whose text changed, reuses the previous builder
 * program (so unchanged files keep their diagnostics) and resolves every import again. Nothing
 * is trusted from the previous check but parsed text equal to what is on disk now, so a stale
 * answer cannot come out of it.
 */
import { relative } from 'node:path';
import type * as TS from 'typescript';
import { SYNTH_TSCONFIG, cacheFiles, projectFingerprint, writeAtomically, writeStamp, type TypeProblem, type TypecheckResult } from './typecheck';

// Required, not imported: the compiler is loaded only by the code paths that check.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ts = require('typescript') as typeof TS;

export class ProgramChecker {
  private readonly parsed = new Map<string, { file: TS.SourceFile; print: string | undefined }>();
  private previous: TS.EmitAndSemanticDiagnosticsBuilderProgram | undefined;
  private readonly host: TS.CompilerHost;
  private readonly options: TS.CompilerOptions;
  private readonly configErrors: readonly TS.Diagnostic[];
  private readonly stampFile: string;
  private unsaved: { program: TS.EmitAndSemanticDiagnosticsBuilderProgram; clean: boolean } | undefined;

  /** `entry`: the app's entry file (absolute); `key`: what invalidates every result (typecheck.ts configKey). */
  constructor(
    private readonly entry: string,
    private readonly key: string,
  ) {
    const config = ts.getParsedCommandLineOfConfigFile(SYNTH_TSCONFIG, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    if (!config) throw new Error(`${SYNTH_TSCONFIG} cannot be read`);
    const { stampFile, buildInfo } = cacheFiles(entry);
    this.stampFile = stampFile;
    this.configErrors = config.errors;
    this.options = { ...config.options, noEmit: true, incremental: true, tsBuildInfoFile: buildInfo };
    const host = ts.createIncrementalCompilerHost(this.options);
    host.writeFile = (file, text) => writeAtomically(file, text);
    // The incremental host's getSourceFile reads, parses and stamps a version (a hash of the
    // text) the build info is compared by. A project file whose text is unchanged keeps its
    // parse; so does a node_modules file whose size and mtime are (the stamp's rule for them).
    const parse = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
      const known = this.parsed.get(fileName);
      const installed = fileName.includes('/node_modules/');
      const print = installed ? projectFingerprint(fileName) : undefined;
      if (known && (installed ? known.print === print : known.file.text === ts.sys.readFile(fileName))) return known.file;
      const file = parse(fileName, languageVersion, onError, shouldCreate);
      if (file) this.parsed.set(fileName, { file, print });
      else this.parsed.delete(fileName);
      return file;
    };
    // Resolve every import again each time: a file that appeared or moved is found.
    host.hasInvalidatedResolutions = () => true;
    this.host = host;
  }

  /** Checks the entry and what it imports now. Call `persist()` after (answering first is faster). */
  check(cwd = process.cwd()): TypecheckResult {
    const program = ts.createEmitAndSemanticDiagnosticsBuilderProgram(
      [this.entry],
      this.options,
      this.host,
      this.previous ?? ts.readBuilderProgram(this.options, this.host),
      this.configErrors,
    );
    this.previous = program;
    const diagnostics = [
      ...this.configErrors,
      ...program.getConfigFileParsingDiagnostics(),
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...program.getSyntacticDiagnostics(),
      ...program.getSemanticDiagnostics(),
    ].filter((d) => d.category === ts.DiagnosticCategory.Error);
    const problems = diagnostics.map((d) => toProblem(d, cwd));
    this.unsaved = { program, clean: problems.length === 0 };
    return { problems, upToDate: false };
  }

  /** Writes the last check's build info and, when it was clean, the stamp. */
  persist(): void {
    if (!this.unsaved) return;
    const { program, clean } = this.unsaved;
    this.unsaved = undefined;
    program.emit(); // with noEmit, writes only the build info
    if (clean) {
      // Project files are stamped with the text this check read, so an edit made while it ran is not taken as checked.
      const texts = new Map(program.getSourceFiles().map((f) => [f.fileName, f.text]));
      writeStamp(this.stampFile, this.key, [...texts.keys()], (f) => projectFingerprint(f, texts.get(f)));
    }
  }
}

function toProblem(d: TS.Diagnostic, cwd: string): TypeProblem {
  const message = ts.flattenDiagnosticMessageText(d.messageText, ' ').replace(/\s+/g, ' ').trim();
  if (!d.file || d.start === undefined) return { code: d.code, message, ...(d.file ? { file: relative(cwd, d.file.fileName) } : {}) };
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const file = relative(cwd, d.file.fileName);
  return { file: file.startsWith('..') ? d.file.fileName : file, line: line + 1, column: character + 1, code: d.code, message };
}
