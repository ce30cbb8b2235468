/**
 * Parses an SVG with a real XML parser (Python's ElementTree: python3 is
 * already needed for componentize-py) and returns what the chart tests
 * check: the root element and the series of each legend entry and bar.
 */
import { execFileSync } from 'node:child_process';

export interface ParsedSvg {
  root: string;
  legend: string[];
  /** Per panel, the series of each bar in document order. */
  panels: string[][];
}

const SCRIPT = `
import json, sys, xml.etree.ElementTree as ET
NS = '{http://www.w3.org/2000/svg}'
root = ET.fromstring(sys.stdin.buffer.read())
legend = [g.get('data-series') for g in root.iter(NS + 'g') if g.get('class') == 'legend']
panels = [[b.get('data-series') for b in p.iter(NS + 'g') if b.get('class') == 'bar'] for p in root.iter(NS + 'g') if p.get('class') == 'panel']
print(json.dumps({'root': root.tag.replace(NS, ''), 'legend': legend, 'panels': panels}))
`;

export function parseSvg(svg: string): ParsedSvg {
  return JSON.parse(execFileSync('python3', ['-c', SCRIPT], { input: svg, encoding: 'utf8' })) as ParsedSvg;
}
