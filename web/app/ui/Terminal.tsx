import { useSignal } from '@preact/signals';

import { useCluster } from './context.js';

export function Terminal() {
  const c = useCluster();
  const input = useSignal('');
  const submit = (ev: Event) => {
    ev.preventDefault();
    const line = input.value;
    input.value = '';
    void c.exec(line);
  };
  return (
    <section class="panel terminal" aria-label="Key-value terminal">
      <h2>KV terminal</h2>
      <ol class="lines" data-testid="terminal" aria-live="polite">
        {c.store.terminal.value.map((l) => (
          <li key={l.seq} class={l.state} data-seq={l.seq}>
            <div class="in">&gt; {l.input}</div>
            <div class="out" data-testid="output">
              {l.output}
            </div>
          </li>
        ))}
      </ol>
      <form onSubmit={submit}>
        <label for="kv-input">Command</label>
        <input
          id="kv-input"
          autocomplete="off"
          spellcheck={false}
          placeholder="SET temperature 72.5"
          value={input.value}
          onInput={(e) => (input.value = (e.target as HTMLInputElement).value)}
        />
        <button type="submit">Run</button>
      </form>
    </section>
  );
}
