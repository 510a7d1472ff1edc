#!/usr/bin/env python3
"""Golden trajectories for nag4j's optimizer family: adam, momentum, adamw, rmsprop, adagrad.

An independent float32 implementation in numpy: every per-element op is one numpy float32 ufunc
call (so each op is rounded to float32 and nothing is fused), in the op order documented in
docs/optimizers.md and in each rule's Javadoc. Per-step host values are computed with Python
doubles from the float32 hyperparameters and rounded once with np.float32. "Selects" are
np.where, which copies the chosen bits exactly.

Run: python3 gen_family_golden.py  (writes family_golden.json beside this script; deterministic:
a second run gives byte-identical output).

JSON layout:
  optimizers.NAME.cases[]: {name, hp: {name: hex}, steps, check_steps, tensors: [{name, shape,
  theta0_b64le, updates_b64le (shape [steps, *shape])}], expect: [{step, param: [b64 per tensor],
  slots: {slot: [b64 per tensor]}}]}
All float arrays are little-endian float32, base64. NaN payloads are whatever numpy produced:
compare NaN by class.
"""
import base64
import json
import math
import os

import numpy as np

F = np.float32


def f32(x):
    """A Python double rounded once to float32."""
    return F(x)


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype='<f4').tobytes()).decode('ascii')


def hexf(x):
    return '%08x' % int(np.array([x], dtype=np.float32).view(np.uint32)[0])


def where(c, a, b):
    return np.where(c, a, b).astype(F)


def lerp(start, end, weight, small, omw):
    """PyTorch's lerp without fusion: small weight: start + w*(end-start); else end - (end-start)*(1-w)."""
    d = np.subtract(end, start)
    lo = np.add(start, np.multiply(weight, d))
    hi = np.subtract(end, np.multiply(d, omw))
    return where(small, lo, hi)


# ---- the optimizers: hp is a dict of np.float32, t counts from 1, s a dict of slot arrays ----

def adam_host(hp, t):
    b1, b2 = float(hp['beta1']), float(hp['beta2'])
    return dict(omb1=f32(1.0 - b1), omb2=f32(1.0 - b2), c1=f32(1.0 - b1 ** t), c2=f32(1.0 - b2 ** t))


def adam_step(hp, t, p, u, s):
    h = adam_host(hp, t)
    a = np.multiply(hp['beta1'], s['g1'])
    b = np.multiply(h['omb1'], u)
    g1 = np.add(a, b)
    c = np.multiply(u, u)
    d = np.multiply(hp['beta2'], s['g2'])
    e = np.multiply(h['omb2'], c)
    g2 = np.add(d, e)
    f = np.divide(g1, h['c1'])
    hh = np.multiply(hp['eta'], f)
    i = np.divide(g2, h['c2'])
    j = np.sqrt(i)
    k = np.add(j, hp['eps'])
    l = np.divide(hh, k)
    return np.subtract(p, l), dict(g1=g1, g2=g2)


def momentum_step(hp, t, p, u, s):
    # PyTorch's Python ifs: weight decay only when non-zero, the buffer only with momentum.
    first = t == 1
    omd = f32(1.0 - float(hp['dampening']))
    g = np.add(u, np.multiply(hp['weight_decay'], p)) if hp['weight_decay'] != 0 else u
    if hp['momentum'] == 0:
        return np.subtract(p, np.multiply(hp['lr'], g)), dict(buf=s['buf'])
    b = np.multiply(hp['momentum'], s['buf'])
    c = np.multiply(omd, g)
    d = np.add(b, c)
    buf = where(first, g, d)
    e = np.multiply(hp['momentum'], buf)
    f = np.add(g, e)
    st = where(hp['nesterov'] != 0, f, buf)
    h = np.multiply(hp['lr'], st)
    return np.subtract(p, h), dict(buf=buf)


def adamw_step(hp, t, p, u, s):
    lr, wd = float(hp['lr']), float(hp['weight_decay'])
    b1, b2 = float(hp['beta1']), float(hp['beta2'])
    decay = f32(1.0 - lr * wd)
    omb1 = f32(1.0 - b1)
    small = abs(omb1) < F(0.5)
    omw = f32(1.0 - float(omb1))
    omb2 = f32(1.0 - b2)
    step_size = f32(lr / (1.0 - b1 ** t))
    bc2s = f32(math.sqrt(1.0 - b2 ** t))
    p0 = np.multiply(p, decay)
    m = lerp(s['exp_avg'], u, omb1, small, omw)
    a = np.multiply(s['exp_avg_sq'], hp['beta2'])
    b = np.multiply(omb2, u)
    c = np.multiply(b, u)
    v = np.add(a, c)
    sq = np.sqrt(v)
    q = np.divide(sq, bc2s)
    den = np.add(q, hp['eps'])
    n = np.multiply(step_size, m)
    r = np.divide(n, den)
    return np.subtract(p0, r), dict(exp_avg=m, exp_avg_sq=v)


def rmsprop_step(hp, t, p, u, s):
    alpha = float(hp['alpha'])
    wd_on = hp['weight_decay'] != 0
    oma = f32(1.0 - alpha)
    small = abs(oma) < F(0.5)
    omw = f32(1.0 - float(oma))
    mom_on = hp['momentum'] > 0
    centered = hp['centered'] != 0
    g = where(wd_on, np.add(u, np.multiply(hp['weight_decay'], p)), u)
    sa = np.add(np.multiply(s['square_avg'], hp['alpha']), np.multiply(np.multiply(oma, g), g))
    ga = where(centered, lerp(s['grad_avg'], g, oma, small, omw), s['grad_avg'])
    avg_c = np.sqrt(np.add(sa, np.multiply(np.negative(ga), ga)))
    avg_p = np.sqrt(sa)
    avg = np.add(where(centered, avg_c, avg_p), hp['eps'])
    buf = np.add(np.multiply(s['momentum_buffer'], hp['momentum']), np.divide(g, avg))
    p_mom = np.subtract(p, np.multiply(hp['lr'], buf))
    p_plain = np.subtract(p, np.divide(np.multiply(hp['lr'], g), avg))
    return (where(mom_on, p_mom, p_plain),
            dict(square_avg=sa, grad_avg=ga, momentum_buffer=where(mom_on, buf, s['momentum_buffer'])))


def adagrad_step(hp, t, p, u, s):
    lr, lr_decay = float(hp['lr']), float(hp['lr_decay'])
    wd_on = hp['weight_decay'] != 0
    first = t == 1
    clr = f32(lr / (1.0 + (t - 1) * lr_decay))
    g = where(wd_on, np.add(u, np.multiply(hp['weight_decay'], p)), u)
    s0 = where(first, np.full_like(p, hp['initial_accumulator_value']), s['sum'])
    sm = np.add(s0, np.multiply(g, g))
    std = np.add(np.sqrt(sm), hp['eps'])
    return np.subtract(p, np.divide(np.multiply(clr, g), std)), dict(sum=sm)


OPTIMIZERS = {
    'adam': dict(step=adam_step, slots=['g1', 'g2'],
                 defaults=dict(eta=0.001, beta1=0.9, beta2=0.999, eps=1e-8),
                 others=[dict(eta=0.01, beta1=0.8, beta2=0.99, eps=1e-6)]),
    'momentum': dict(step=momentum_step, slots=['buf'],
                     defaults=dict(lr=0.01, momentum=0, dampening=0, weight_decay=0, nesterov=0),
                     others=[dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=1),
                             dict(lr=0.02, momentum=0.8, dampening=0.5, weight_decay=0, nesterov=0)]),
    'adamw': dict(step=adamw_step, slots=['exp_avg', 'exp_avg_sq'],
                  defaults=dict(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01),
                  others=[dict(lr=0.01, beta1=0.3, beta2=0.99, eps=1e-6, weight_decay=0.1)]),
    'rmsprop': dict(step=rmsprop_step, slots=['square_avg', 'grad_avg', 'momentum_buffer'],
                    defaults=dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=0),
                    others=[dict(lr=0.001, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.9, centered=1),
                            dict(lr=0.005, alpha=0.4, eps=1e-7, weight_decay=0, momentum=0, centered=1)]),
    'adagrad': dict(step=adagrad_step, slots=['sum'],
                    defaults=dict(lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10),
                    others=[dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-6)]),
}

# The optimizers written to the JSON file, in this order (each keeps its own random seed).
FAMILY = ['adam', 'momentum', 'adamw', 'rmsprop', 'adagrad']

SPECIALS = np.array([0.0, -0.0, 1e-45, -1e-45, 1e-40, -3e-39, 1.17549435e-38, 1.0, -1.5, 3e38,
                     np.inf, -np.inf, np.nan], dtype=F)


def random_case(rng, steps):
    shapes = [(7,), (3, 5), (33,)]
    tensors = []
    for i, sh in enumerate(shapes):
        theta0 = rng.standard_normal(sh).astype(F)
        updates = (rng.standard_normal((steps,) + sh) * 0.5).astype(F)
        # A few exact zeros, and sign flips, in the updates.
        updates[rng.random((steps,) + sh) < 0.05] = F(0)
        tensors.append(dict(name='w%d' % i, shape=list(sh), theta0=theta0, updates=updates))
    return tensors


def special_case(steps):
    n = len(SPECIALS)
    theta0 = np.tile(SPECIALS, n)              # every param special against every update special
    base = np.repeat(SPECIALS, n)
    updates = np.stack([np.roll(base, 3 * s) for s in range(steps)]).astype(F)
    return [dict(name='special', shape=[n * n], theta0=theta0, updates=updates)]


def run_case(name, opt, hp_dict, tensors, steps, check_steps):
    spec = OPTIMIZERS[opt]
    hp = {k: F(v) for k, v in hp_dict.items()}
    params = [t['theta0'].copy() for t in tensors]
    slots = [{s: np.zeros_like(t['theta0']) for s in spec['slots']} for t in tensors]
    expect = []
    for t in range(1, steps + 1):
        for i, tn in enumerate(tensors):
            p, s = spec['step'](hp, t, params[i], tn['updates'][t - 1], slots[i])
            assert p.dtype == F and all(v.dtype == F for v in s.values()), (opt, name)
            params[i], slots[i] = p, s
        if t in check_steps:
            expect.append(dict(step=t, param=[b64(p) for p in params],
                               slots={s: [b64(sl[s]) for sl in slots] for s in spec['slots']}))
    return dict(name=name, hp={k: hexf(v) for k, v in hp.items()}, steps=steps, check_steps=sorted(check_steps),
                tensors=[dict(name=t['name'], shape=t['shape'], theta0_b64le=b64(t['theta0']),
                              updates_b64le=b64(t['updates'])) for t in tensors],
                expect=expect)


def main():
    steps = 60
    checks = set(range(1, 6)) | set(range(10, steps + 1, 10))
    out = dict(generator='gen_family_golden.py', numpy=np.__version__, optimizers={})
    for k, opt in enumerate(FAMILY):
        spec = OPTIMIZERS[opt]
        rng = np.random.default_rng(20261124 + k)
        cases = []
        hp_sets = [('default', spec['defaults'])] + [('custom%d' % (j + 1), h) for j, h in enumerate(spec['others'])]
        for name, hp in hp_sets:
            cases.append(run_case(name, opt, hp, random_case(rng, steps), steps, checks))
        for name, hp in hp_sets:
            special_steps = 6
            cases.append(run_case('special-' + name, opt, hp, special_case(special_steps), special_steps,
                                  set(range(1, special_steps + 1))))
        if opt == 'adam':
            # ngc-learn adam.py's own __main__ example: weights [3, 3] twice, updates [3, 3] twice, one step.
            three = [dict(name='w%d' % i, shape=[2], theta0=np.full(2, 3, F), updates=np.full((1, 2), 3, F))
                     for i in range(2)]
            cases.append(run_case('ngclearn-main', opt, spec['defaults'], three, 1, {1}))
        out['optimizers'][opt] = dict(slots=spec['slots'], cases=cases)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'family_golden.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=1, sort_keys=False)
        f.write('\n')
    print('wrote', path)


if __name__ == '__main__':
    with np.errstate(all='ignore'):
        main()
