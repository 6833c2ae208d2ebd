// Messages in flight, in the manner of RaftScope: a labelled dot crosses
// from the sender's card to the receiver's (stacked cards on a phone: it
// goes up or down), over the message's delay; a dropped one stops half-way
// and fades. Under prefers-reduced-motion nothing moves; the legend's
// counts remain.

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

import { FADE_MS, MESSAGE_KINDS, messageKind, type Dot } from '../cluster/traffic.js';
import { useCluster } from './context.js';

const REDUCED = '(prefers-reduced-motion: reduce)';

function useReducedMotion(): boolean {
  const [reduced, setReduced] = useState(() => matchMedia(REDUCED).matches);
  useEffect(() => {
    const q = matchMedia(REDUCED);
    const on = () => setReduced(q.matches);
    q.addEventListener('change', on);
    return () => q.removeEventListener('change', on);
  }, []);
  return reduced;
}

/** The centre of node id's card, relative to the overlay. */
function centre(overlay: HTMLElement, id: bigint): { x: number; y: number } | undefined {
  const card = overlay.parentElement?.querySelector(`[data-testid="node-${id}"]`);
  if (!card) return undefined;
  const o = overlay.getBoundingClientRect();
  const r = card.getBoundingClientRect();
  return { x: r.left + r.width / 2 - o.left, y: r.top + r.height / 2 - o.top };
}

function FlyingDot({ dot }: { dot: Dot }) {
  const ref = useRef<HTMLSpanElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    const overlay = el?.parentElement;
    if (!el || !overlay) return;
    const a = centre(overlay, dot.from);
    const b = centre(overlay, dot.to);
    if (!a || !b) return;
    // Each direction of a link keeps to its own side of the line between the cards.
    const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    const ox = (-(b.y - a.y) / len) * 7;
    const oy = ((b.x - a.x) / len) * 7;
    const at = (f: number) => `translate(${a.x + (b.x - a.x) * f + ox}px, ${a.y + (b.y - a.y) * f + oy}px)`;
    const frames = dot.dropped
      ? [
          { transform: at(0), opacity: 1, offset: 0 },
          { transform: at(0.5), opacity: 1, offset: dot.durationMs / (dot.durationMs + FADE_MS) },
          { transform: at(0.5), opacity: 0, offset: 1 },
        ]
      : [
          { transform: at(0), opacity: 1 },
          { transform: at(1), opacity: 1 },
        ];
    const anim = el.animate(frames, { duration: dot.durationMs + (dot.dropped ? FADE_MS : 0), easing: 'linear', fill: 'forwards' });
    return () => anim.cancel();
  }, [dot]);
  const k = messageKind(dot.type);
  return (
    <span
      ref={ref}
      class={`dot${dot.dropped ? ' dropped' : ''}`}
      data-type={k.name}
      style={{ background: k.colour }}
      title={`${k.name} ${dot.from}→${dot.to}${dot.count > 1 ? ` ×${dot.count}` : ''}${dot.dropped ? ' (dropped)' : ''}`}
    >
      {k.label}
    </span>
  );
}

/** The dots, over the node cards (the cards' section is their positioned parent). */
export function TrafficLayer() {
  const { store } = useCluster();
  const reduced = useReducedMotion();
  const dots = store.traffic.dots.value;
  return (
    <div class="traffic-layer" aria-hidden="true" data-testid="traffic-layer" data-dots={dots.length}>
      {reduced ? null : dots.map((d) => <FlyingDot key={d.id} dot={d} />)}
    </div>
  );
}

/** Which colour is which message, and how many of each the nodes sent since the page loaded. */
export function TrafficLegend() {
  const { store } = useCluster();
  const reduced = useReducedMotion();
  const counts = store.traffic.counts.value;
  const n = (name: string) => counts[name] ?? 0;
  const votes = n('Vote') + n('PreVote');
  return (
    <section class="panel traffic" aria-label="Messages" data-testid="traffic" data-votes={votes} data-dropped={store.traffic.dropped.value}>
      <h2>Messages</h2>
      <ul class="legend">
        {MESSAGE_KINDS.map((k) => (
          <li key={k.type} data-testid={`msg-${k.name}`} data-count={n(k.name)}>
            <span class="dot still" style={{ background: k.colour }}>
              {k.label}
            </span>
            {k.name} <b>{n(k.name)}</b>
          </li>
        ))}
      </ul>
      <p class="hint">
        Sent since the page loaded ({store.traffic.dropped.value} dropped). A dot crosses over the message's delay (at least 0.4 s); a dropped one fades half-way; heartbeats are drawn at most once per link every 0.6 s.
        {reduced ? ' Animation off (reduced motion).' : ''}
      </p>
    </section>
  );
}
