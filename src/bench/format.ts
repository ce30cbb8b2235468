/** Figures as people read them: durations in µs / ms / s, rates, sizes, and a median with its range. */
import type { Spread } from './stats.ts';

/** Milliseconds in a unit that keeps 3 significant digits readable. */
export function duration(ms: number): string {
  return durationIn(ms, durationUnit(ms));
}

type Unit = 'µs' | 'ms' | 's';

function durationUnit(ms: number): Unit {
  if (ms < 1) return 'µs';
  if (ms < 1000) return 'ms';
  return 's';
}

function durationIn(ms: number, unit: Unit): string {
  const v = unit === 'µs' ? ms * 1000 : unit === 's' ? ms / 1000 : ms;
  return `${sig(v)} ${unit}`;
}

function sig(v: number): string {
  if (v >= 100) return Math.round(v).toLocaleString('en');
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function rate(perSecond: number): string {
  return perSecond >= 100 ? Math.round(perSecond).toLocaleString('en') : perSecond.toFixed(1);
}

export function bytes(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

export function ratio(r: number | undefined): string {
  if (r === undefined) return '—';
  return r >= 100 ? `${Math.round(r).toLocaleString('en')}×` : r >= 10 ? `${r.toFixed(0)}×` : `${r.toFixed(1)}×`;
}

/** `median (min–max)`, the range in the median's unit; a single round shows the median alone. */
export function spreadText(s: Spread | undefined, kind: 'duration' | 'rate' | 'bytes'): string {
  if (s === undefined) return '—';
  if (kind === 'duration') {
    const unit = durationUnit(s.median);
    const m = durationIn(s.median, unit);
    if (s.rounds.length < 2) return m;
    const num = (ms: number): string => durationIn(ms, unit).replace(/ \S+$/, '');
    return `${m} (${num(s.min)}–${num(s.max)})`;
  }
  const f = kind === 'rate' ? rate : bytes;
  return s.rounds.length < 2 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}
