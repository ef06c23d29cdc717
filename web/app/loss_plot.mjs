// A live loss curve on a <canvas>: loss against step, with the axes' ranges labelled; redrawn
// as step records ({ step, loss }) arrive.
export class LossPlot {
  constructor(canvas) {
    this.canvas = canvas;
    this.points = [];
  }

  clear() {
    this.points = [];
    this.draw();
  }

  add(record) {
    if (Number.isFinite(record.loss)) this.points.push([record.step, record.loss]);
    this.draw();
  }

  draw() {
    const c = this.canvas;
    const g = c.getContext('2d');
    const dpr = globalThis.devicePixelRatio || 1;
    const w = c.clientWidth || c.width;
    const h = c.clientHeight || c.height;
    if (c.width !== Math.round(w * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const pad = { l: 44, r: 10, t: 12, b: 24 };
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#6b6960';
    g.strokeStyle = '#dedbd2';
    g.strokeRect(pad.l, pad.t, w - pad.l - pad.r, h - pad.t - pad.b);
    if (this.points.length === 0) {
      g.fillText('loss appears here as training runs', pad.l + 8, pad.t + 18);
      return;
    }
    const xs = this.points.map((p) => p[0]);
    const ys = this.points.map((p) => p[1]);
    const x0 = Math.min(...xs);
    const x1 = Math.max(x0 + 1, ...xs);
    const y0 = Math.min(...ys);
    const y1 = Math.max(y0 + 1e-6, ...ys);
    const px = (x) => pad.l + ((x - x0) / (x1 - x0)) * (w - pad.l - pad.r);
    const py = (y) => pad.t + (1 - (y - y0) / (y1 - y0)) * (h - pad.t - pad.b);
    g.fillText(y1.toFixed(3), 4, pad.t + 8);
    g.fillText(y0.toFixed(3), 4, h - pad.b);
    g.fillText(`step ${x0}`, pad.l, h - 6);
    const last = `step ${x1}`;
    g.fillText(last, w - pad.r - g.measureText(last).width, h - 6);
    g.strokeStyle = '#b4541a';
    g.lineWidth = 1.5;
    g.beginPath();
    this.points.forEach(([x, y], i) => (i ? g.lineTo(px(x), py(y)) : g.moveTo(px(x), py(y))));
    g.stroke();
  }
}
