/**
 * Collects the states (switch cases) of one tasklet function. Labels get their
 * numbers when they are placed, in code order, so a try block's states form a
 * contiguous range of resume points (the dispatch `catch` routes by range).
 * References to a label are emitted as placeholder literals patched at the end.
 */
import * as t from '../ast.js';

export class Label {
  id = -1;
  constructor(readonly hint: string) {}
}

interface PcRef {
  node: t.NumericLiteral | t.UnaryExpression;
  literal: t.NumericLiteral;
  label: Label;
}

/** Statements written as text that name a label, written once the label has its number. */
interface TextRef {
  node: t.Identifier;
  label: Label;
  text: (id: number) => string;
}

export interface State {
  label: Label;
  body: t.Statement[];
}

export class Emitter {
  readonly states: State[] = [];
  private current: t.Statement[];
  private nextId = 0;
  private refs: PcRef[] = [];
  private texts: TextRef[] = [];

  constructor(readonly pc: t.Identifier, readonly loopLabel: t.Identifier) {
    const entry = new Label('entry');
    entry.id = this.nextId++;
    this.current = [];
    this.states.push({ label: entry, body: this.current });
  }

  /** Place `label` here: the code that follows is reachable by jumping to it. */
  mark(label: Label): void {
    if (label.id !== -1) throw new Error(`internal: label ${label.hint} placed twice`);
    label.id = this.nextId++;
    this.current = [];
    this.states.push({ label, body: this.current });
  }

  emit(stmt: t.Statement): void {
    this.current.push(stmt);
  }

  /** A literal that will hold `label`'s number (negated when `negate`). */
  ref(label: Label, negate = false): t.Expression {
    const literal = t.numericLiteral(0);
    const node = negate ? t.unaryExpression('-', literal) : literal;
    this.refs.push({ node, literal, label });
    return node;
  }

  /** Statements written as text (see `rawStatements`) that need `label`'s number. */
  emitText(label: Label, text: (id: number) => string): void {
    const stmt = t.rawStatements('');
    this.texts.push({ node: stmt.expression as t.Identifier, label, text });
    this.emit(stmt);
  }

  setPc(label: Label): void {
    this.emit(t.expressionStatement(t.assignmentExpression('=', t.identifier(this.pc.name), this.ref(label))));
  }

  /** `$pc = L; continue $loop;` */
  jump(label: Label): void {
    this.setPc(label);
    this.emit(t.continueStatement(t.identifier(this.loopLabel.name)));
  }

  /** Statements that jump to `label` (for use inside emitted `if` blocks). */
  jumpStatements(label: Label): t.Statement[] {
    return [
      t.expressionStatement(t.assignmentExpression('=', t.identifier(this.pc.name), this.ref(label))),
      t.continueStatement(t.identifier(this.loopLabel.name)),
    ];
  }

  /** Patch every label reference; fails loudly if a referenced label was never placed. */
  finish(): void {
    for (const r of this.refs) {
      if (r.label.id === -1) throw new Error(`internal: label ${r.label.hint} referenced but never placed`);
      r.literal.value = r.label.id;
    }
    for (const r of this.texts) {
      if (r.label.id === -1) throw new Error(`internal: label ${r.label.hint} referenced but never placed`);
      r.node.name = r.text(r.label.id);
    }
  }

  get count(): number {
    return this.nextId;
  }
}
