// A method-call-heavy object kernel that never blocks: an n-body simulation
// written with small classes whose every method is a tasklet function.

export class Vec3 {
  x: number;
  y: number;
  z: number;
  constructor(x: number, y: number, z: number) {
    this.x = x;
    this.y = y;
    this.z = z;
  }
  setDiff(a: Vec3, b: Vec3): this {
    "use tasklet";
    this.x = a.x - b.x;
    this.y = a.y - b.y;
    this.z = a.z - b.z;
    return this;
  }
  addScaled(v: Vec3, s: number): void {
    "use tasklet";
    this.x += v.x * s;
    this.y += v.y * s;
    this.z += v.z * s;
  }
  dot(v: Vec3): number {
    "use tasklet";
    return this.x * v.x + this.y * v.y + this.z * v.z;
  }
  lengthSq(): number {
    "use tasklet";
    return this.dot(this);
  }
}

export class Body {
  pos: Vec3;
  vel: Vec3;
  mass: number;
  constructor(pos: Vec3, vel: Vec3, mass: number) {
    this.pos = pos;
    this.vel = vel;
    this.mass = mass;
  }
  advance(dt: number): void {
    "use tasklet";
    this.pos.addScaled(this.vel, dt);
  }
  kinetic(): number {
    "use tasklet";
    return 0.5 * this.mass * this.vel.lengthSq();
  }
}

export class System {
  bodies: Body[];
  tmp: Vec3;
  constructor(bodies: Body[]) {
    this.bodies = bodies;
    this.tmp = new Vec3(0, 0, 0);
  }
  interact(a: Body, b: Body, dt: number): void {
    "use tasklet";
    const d = this.tmp.setDiff(a.pos, b.pos);
    const d2 = d.lengthSq();
    const mag = dt / (d2 * Math.sqrt(d2));
    a.vel.addScaled(d, -b.mass * mag);
    b.vel.addScaled(d, a.mass * mag);
  }
  step(dt: number): void {
    "use tasklet";
    const bodies = this.bodies;
    const n = bodies.length;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) this.interact(bodies[i], bodies[j], dt);
    }
    for (let i = 0; i < n; i++) bodies[i].advance(dt);
  }
  energy(): number {
    "use tasklet";
    const bodies = this.bodies;
    let e = 0;
    for (let i = 0; i < bodies.length; i++) {
      const a = bodies[i];
      e += a.kinetic();
      for (let j = i + 1; j < bodies.length; j++) {
        const b = bodies[j];
        const d = this.tmp.setDiff(a.pos, b.pos);
        e -= (a.mass * b.mass) / Math.sqrt(d.lengthSq());
      }
    }
    return e;
  }
}

/** Builds a deterministic system of `n` bodies, runs `steps` steps, returns the final energy. */
export function simulate(n: number, steps: number): number {
  "use tasklet";
  const bodies: Body[] = [];
  for (let i = 0; i < n; i++) {
    const a = (i * 2 * Math.PI) / n;
    const r = 1 + (i % 3);
    bodies.push(
      new Body(new Vec3(r * Math.cos(a), r * Math.sin(a), 0.1 * (i % 5)), new Vec3(-0.3 * Math.sin(a), 0.3 * Math.cos(a), 0), 0.5 + (i % 4) * 0.25),
    );
  }
  const system = new System(bodies);
  for (let s = 0; s < steps; s++) system.step(0.001);
  return system.energy();
}
