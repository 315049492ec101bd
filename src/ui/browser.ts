/**
 * The part of the browser's API the page uses, as types. The project compiles
 * without TypeScript's DOM library (it would change the types of node code
 * too, setTimeout's among them), so each page module declares the globals it
 * reads with these types — module-scoped declarations, which compile to
 * nothing and leave the rest of the project alone.
 */

/** An element, with the properties of the few kinds the page makes (inputs, details, textarea). */
export interface El {
  readonly tagName: string;
  id: string;
  className: string;
  textContent: string | null;
  hidden: boolean;
  /** Inputs and textareas. */
  value: string;
  /** Checkboxes. */
  checked: boolean;
  /** `<details>`. */
  open: boolean;
  tabIndex: number;
  readonly dataset: Record<string, string | undefined>;
  append(...nodes: (El | string)[]): void;
  replaceChildren(...nodes: (El | string)[]): void;
  setAttribute(name: string, value: string): void;
  getAttribute(name: string): string | null;
  addEventListener(type: string, listener: (e: PageEvent) => void): void;
  querySelector(selector: string): El | null;
  contains(other: El | null): boolean;
  focus(): void;
  select(): void;
  remove(): void;
  replaceWith(...nodes: (El | string)[]): void;
}

export interface PageEvent {
  readonly key?: string;
  readonly target: El | null;
  readonly ctrlKey?: boolean;
  readonly metaKey?: boolean;
  readonly altKey?: boolean;
  preventDefault(): void;
}

export interface PageDocument {
  readonly body: El;
  readonly activeElement: El | null;
  createElement(tag: string): El;
  getElementById(id: string): El | null;
  querySelector(selector: string): El | null;
  /** The fallback copy where the Clipboard API is missing (plain HTTP to another host than localhost). */
  execCommand(command: "copy"): boolean;
  title: string;
}

export interface PageWindow {
  /** `hash` is the page's route (logic.ts); setting it navigates. */
  readonly location: { hash: string; host: string };
  readonly history: { replaceState(data: null, unused: string, url: string): void };
  readonly isSecureContext: boolean;
  addEventListener(type: string, listener: (e: PageEvent) => void): void;
}

export interface PageNavigator {
  readonly clipboard?: { writeText(text: string): Promise<void> };
}
