/**
 * A copy of the organisation's app (workflows/, samples included) in a temporary directory
 * inside the repository, next to a link to constructs/, so its `../constructs` imports and
 * its packages resolve as in workflows/. Edits go through the TypeScript syntax tree of
 * workflows/app.ts (whole statements of buildApp), so they do not depend on its formatting.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import ts from 'typescript';

export const ROOT = resolve(__dirname, '..', '..');

export class AppCopy {
  public readonly dir: string;
  public readonly workflows: string;

  constructor() {
    this.dir = mkdtempSync(join(ROOT, '.app-copy-'));
    this.workflows = join(this.dir, 'workflows');
    // Dot-entries are other tests' scratch space (e.g. the README test's), not the app.
    cpSync(join(ROOT, 'workflows'), this.workflows, { recursive: true, filter: (src) => !basename(src).startsWith('.') });
    // The library and what it imports (and the stack settings the app reads), linked: the copy is the app, not the library.
    for (const dir of ['constructs', 'state', 'stacks']) symlinkSync(join(ROOT, dir), join(this.dir, dir), 'dir');
  }

  get samples(): string {
    return join(this.workflows, 'samples');
  }

  write(file: string, text: string): void {
    mkdirSync(dirname(join(this.workflows, file)), { recursive: true });
    writeFileSync(join(this.workflows, file), text);
  }

  remove(file: string): void {
    rmSync(join(this.workflows, file), { recursive: true, force: true });
  }

  /** The body of `buildApp` in the copy's app.ts, parsed. */
  private parseApp(): { text: string; source: ts.SourceFile; body: ts.Block } {
    const text = readFileSync(join(this.workflows, 'app.ts'), 'utf8');
    const source = ts.createSourceFile('app.ts', text, ts.ScriptTarget.ES2022, true);
    const fn = source.statements.find((s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && s.name?.text === 'buildApp');
    if (!fn?.body) throw new Error('workflows/app.ts has no function buildApp: the app tests expect the app to be built there (README "Add a workflow")');
    return { text, source, body: fn.body };
  }

  /** The statement of buildApp that creates the events layer, and the name it is bound to. */
  private eventsStatement(body: ts.Block, source: ts.SourceFile): { statement: ts.Statement; name: string } {
    const statement = body.statements.find((s) => /\bnew PlatformEvents\(/.test(s.getText(source)));
    if (!statement) throw new Error('buildApp in workflows/app.ts creates no PlatformEvents');
    const decl = ts.isVariableStatement(statement) ? statement.declarationList.declarations[0] : undefined;
    return { statement, name: decl && ts.isIdentifier(decl.name) ? decl.name.text : 'events' };
  }

  /**
   * Registers workflows the documented way: an import, a statement before the events layer
   * (workflows and chains), and optionally one after it (callbacks), `$events` standing for
   * the events layer's variable.
   */
  register(importLine: string, beforeEvents: string, afterEvents = ''): void {
    const { text, source, body } = this.parseApp();
    const { statement, name } = this.eventsStatement(body, source);
    const start = statement.getStart(source);
    const end = statement.getEnd();
    const after = afterEvents ? `\n  ${afterEvents.replace(/\$events/g, name)}` : '';
    const edited = `${importLine}\n${text.slice(0, start)}${beforeEvents}\n  ${text.slice(start, end)}${after}${text.slice(end)}`;
    writeFileSync(join(this.workflows, 'app.ts'), edited);
  }

  /**
   * Removes a workflow file the documented way: the file, its import and every statement of
   * buildApp that uses what it exports, or a variable bound to that (creation, chains,
   * callbacks). Samples are the caller's: it knows which workflows went.
   */
  removeWorkflowFile(file: string): void {
    const { text, source, body } = this.parseApp();
    const imported = source.statements.find((s): s is ts.ImportDeclaration =>
      ts.isImportDeclaration(s) && (s.moduleSpecifier as ts.StringLiteral).text === `./${file.replace(/\.ts$/, '')}`);
    const bindings = imported?.importClause?.namedBindings;
    if (!imported || !bindings || !ts.isNamedImports(bindings)) throw new Error(`workflows/app.ts does not import ./${file}`);
    const names = new Set(bindings.elements.map((e) => e.name.text));
    const uses = (node: ts.Node): boolean => (ts.isIdentifier(node) && names.has(node.text)) || node.forEachChild(uses) === true;
    // Variables bound to what the file made, and to what those made, until nothing new.
    for (let grew = true; grew;) {
      grew = false;
      for (const s of body.statements) {
        if (!ts.isVariableStatement(s)) continue;
        for (const d of s.declarationList.declarations) {
          if (ts.isIdentifier(d.name) && !names.has(d.name.text) && d.initializer && uses(d.initializer)) {
            names.add(d.name.text);
            grew = true;
          }
        }
      }
    }
    const dropped = [imported, ...body.statements.filter((s) => uses(s))];
    let edited = text;
    for (const s of dropped.sort((x, y) => y.getStart(source) - x.getStart(source))) edited = edited.slice(0, s.getFullStart()) + edited.slice(s.getEnd());
    writeFileSync(join(this.workflows, 'app.ts'), edited);
    this.remove(file);
  }

  /** Type-checks the copy's app (workflows/main.ts and everything it imports) with the repository's compiler options. */
  typeErrors(): string[] {
    const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
    const program = ts.createProgram([join(this.workflows, 'main.ts')], config.options);
    return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? `${d.file.fileName.slice(this.dir.length + 1)}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
