import { ChartColumn, Cpu, Gauge, Rocket, ShieldCheck, Users } from 'lucide-react';
import Link from 'next/link';
import { StaticCode } from './notebook/static-code.tsx';

const FEATURES = [
  {
    icon: Users,
    title: 'Edit together, live',
    text: 'Several people in one notebook: cursors, runs and outputs appear as they happen.',
  },
  {
    icon: Cpu,
    title: 'A GPU when you ask',
    text: 'Pick CPU, memory and GPU per notebook (H100, A100-80GB:2…); idle kernels cost nothing.',
  },
  {
    icon: ShieldCheck,
    title: 'Sandboxed kernels',
    text: 'Every kernel runs in a gVisor sandbox with the workspace volume and nothing else.',
  },
  {
    icon: Rocket,
    title: 'Cells become endpoints',
    text: 'Deploy a function cell as a versioned HTTPS endpoint that scales to zero.',
  },
  {
    icon: Gauge,
    title: 'Outputs never lost',
    text: 'Execution lives on the server: close the tab, and the output is there when you return.',
  },
  {
    icon: ChartColumn,
    title: 'Per-second billing',
    text: 'Usage metered per second and per resource, with budgets that are real caps.',
  },
];

const SAMPLE = `import numpy as np
import matplotlib.pyplot as plt

x = np.linspace(0, 4 * np.pi, 400)
plt.plot(x, np.sin(x), label="sin")  # runs on your kernel
plt.legend(); plt.show()`;

// A plot drawn as SVG points, the kind of output the sample notebook makes.
const WAVE = Array.from({ length: 60 }, (_, i) => {
  const x = (i / 59) * 4 * Math.PI;
  return `${(i / 59) * 300},${60 - Math.sin(x) * 45}`;
}).join(' ');

/** The page at `/` for visitors who are not signed in. */
export function Landing() {
  return (
    <div className="landing">
      <header className="landing-header">
        <span className="brand">
          Kiln<span>.</span>
        </span>
        <span className="header-spacer" />
        <Link className="btn btn-ghost" href="/sign-in">
          Sign in
        </Link>
        <Link className="btn btn-primary" href="/sign-up">
          Sign up free
        </Link>
      </header>
      <main className="landing-main">
        <section className="landing-hero">
          <div className="stack landing-copy">
            <h1>Collaborative GPU notebooks you host yourself.</h1>
            <p className="landing-lead">
              Jupyter notebooks that a team edits together, each with its own sandboxed Python kernel on the
              CPU and GPU it asks for. Open one and start typing: the code is there at once.
            </p>
            <div className="row">
              <Link className="btn btn-primary" href="/sign-up">
                Create your workspace
              </Link>
              <Link className="btn" href="/sign-in">
                I have an account
              </Link>
            </div>
          </div>
          <figure className="landing-shot" aria-label="A Kiln notebook">
            <div className="landing-shot-bar">
              <span className="kernel-dot landing-dot" aria-hidden="true" /> Idle · 2 CPU · 4 GB · H100
            </div>
            <div className="cell-editor">
              <StaticCode text={SAMPLE} language="python" />
            </div>
            <svg viewBox="0 0 300 120" className="landing-plot" role="img" aria-label="A sine wave plot">
              <polyline points={WAVE} fill="none" stroke="currentColor" strokeWidth="2.5" />
            </svg>
          </figure>
        </section>
        <section className="landing-features" aria-label="What Kiln does">
          {FEATURES.map(({ icon: Icon, title, text }) => (
            <div key={title} className="landing-feature">
              <Icon size={20} aria-hidden="true" />
              <h2>{title}</h2>
              <p className="muted">{text}</p>
            </div>
          ))}
        </section>
      </main>
    </div>
  );
}
