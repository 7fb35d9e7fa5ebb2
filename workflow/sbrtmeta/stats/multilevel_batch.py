"""Many fits of one multilevel model at once: the batched (restricted) maximum likelihood
of the parametric bootstrap.

The bootstrap of :mod:`sbrtmeta.stats.tcp_bootstrap` refits one design, one set of
sampling variances and one random-effects structure (the three-level model of
:mod:`sbrtmeta.stats.multilevel`, or the two-level model's τ²) to many simulated
responses. :class:`BatchFit` fits them all in dense batched linear algebra with the
iteration of :func:`sbrtmeta.stats.multilevel.fit_multilevel` (Harville, J Am Stat Assoc
1977;72:320-338), as metafor's ``rma.mv`` would one by one.

No I/O.
"""

from __future__ import annotations

import numpy as np


class BatchFit:
    """(Restricted) maximum likelihood of the same model for many response vectors at once.

    The bootstrap refits one design, one set of sampling variances and one random-
    effects structure to many simulated responses. The marginal covariance
    ``V(theta) = diag(v) + sum_j theta_j G_j`` (G_j = Z_j Z_j': the study and the arm
    indicators of the three-level model, or the identity for the two-level model's
    tau2) does not depend on the responses, so the (restricted) log-likelihood
    ``-1/2 [log|V| (+ log|X'V^-1 X|) + y'P y]`` (P = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1)
    is evaluated for every replicate on a grid of theta (edges at 0 included) with
    one P per grid point; each replicate then starts from its best grid point a
    projected Newton ascent (Fisher scoring where the Hessian is not negative
    definite) with step halving and an active set at 0, the same iteration as
    :mod:`sbrtmeta.stats.multilevel` (Harville, J Am Stat Assoc 1977;72:320-338: gradient
    ``-1/2 [tr(M G_j) - y'P G_j P y]``, Hessian ``1/2 tr(M G_j M G_l) - y'P G_j P G_l P y``,
    M = P for REML, V^-1 for ML), in dense batched linear algebra. Replicates that do
    not converge are reported, and the caller refits them one by one.
    """

    def __init__(self, v, X, Z_list, reml: bool):
        self.v, self.X, self.reml = np.asarray(v, float), np.asarray(X, float), reml
        self.G = np.stack([Z @ Z.T for Z in Z_list])  # (m, k, k)
        self.m, self.k = self.G.shape[0], self.v.size

    def _matrices(self, theta):
        """P, V^-1 (or None), log|V| (+ log|X'V^-1X|), and (X'V^-1X)^-1 X'V^-1 for each theta row."""
        V = np.einsum("nj,jkl->nkl", theta, self.G)
        V[:, np.arange(self.k), np.arange(self.k)] += self.v
        L = np.linalg.cholesky(V)
        logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
        Vi = np.linalg.inv(V)
        ViX = Vi @ self.X
        F = np.einsum("kp,nkq->npq", self.X, ViX)
        Finv = np.linalg.inv(F)
        if self.reml:
            logdet = logdet + np.linalg.slogdet(F)[1]
        B = Finv @ np.swapaxes(ViX, 1, 2)  # (n, p, k): beta = B y
        P = Vi - ViX @ B
        return P, Vi, logdet, B

    def grid_start(self, Y, n_grid: int = 20):
        """Each replicate's best point of a log grid (with 0) of every component."""
        top = max(float(np.var(Y, axis=1, ddof=1).max()), float(self.v.mean()))
        axis = np.r_[0.0, np.geomspace(1e-4 * top, 3.0 * top, n_grid - 1)]
        thetas = np.array(np.meshgrid(*[axis] * self.m, indexing="ij")).reshape(self.m, -1).T
        best = np.full(Y.shape[0], -np.inf)
        start = np.zeros((Y.shape[0], self.m))
        for c in range(0, thetas.shape[0], 256):
            P, _, logdet, _ = self._matrices(thetas[c : c + 256])
            for t in range(P.shape[0]):
                ll = -0.5 * (logdet[t] + ((Y @ P[t]) * Y).sum(axis=1))
                better = ll > best
                best[better] = ll[better]
                start[better] = thetas[c + t]
        return start, top

    def evaluate(self, theta, Y, deriv: bool):
        P, Vi, logdet, B = self._matrices(theta)
        Py = np.einsum("nkl,nl->nk", P, Y)
        ll = -0.5 * (logdet + (Py * Y).sum(axis=1))
        beta = np.einsum("npk,nk->np", B, Y)
        if not deriv:
            return ll, None, None, None, beta
        M = P if self.reml else Vi
        MG = np.einsum("nkl,jlr->njkr", M, self.G)
        U = np.einsum("jkl,nl->njk", self.G, Py)  # G_j P y
        grad = -0.5 * (np.einsum("njkk->nj", MG) - np.einsum("njk,nk->nj", U, Py))
        info = 0.5 * np.einsum("njab,nlba->njl", MG, MG)
        hess = info - np.einsum("njk,nkr,nlr->njl", U, P, U)
        return ll, grad, hess, info, beta

    def fit(self, Y, max_iter: int = 200, rtol: float = 1e-8):
        """theta, beta and a converged flag for every row of Y."""
        n = Y.shape[0]
        theta, top = self.grid_start(Y)
        floor = 1e-10 * max(top, float(self.v.mean()))
        done = np.zeros(n, dtype=bool)
        ll, g, H, info, _ = self.evaluate(theta, Y, True)
        for _ in range(max_iter):
            act = np.flatnonzero(~done)
            if act.size == 0:
                break
            th = theta[act]
            try:
                step, free, conv = self._step(th, g[act], H[act], info[act], rtol, floor)
            except np.linalg.LinAlgError:
                break
            theta[act[conv]] = np.maximum(th[conv] + step[conv] * free[conv], 0.0)
            done[act[conv]] = True
            go = np.flatnonzero(~conv)
            if go.size == 0:
                continue
            rows = act[go]
            new, stuck = self._line_search(Y[rows], th[go], step[go], ll[rows])
            done[rows[stuck]] = True  # line search failed: left unconverged below
            theta[rows[~stuck]] = new[~stuck]
            upd = rows[~stuck]
            if upd.size:
                ll[upd], g[upd], H[upd], info[upd], _ = self.evaluate(theta[upd], Y[upd], True)
            if stuck.any():
                theta[rows[stuck]] = np.nan
        converged = done & np.all(np.isfinite(theta), axis=1)
        beta = np.full((n, self.X.shape[1]), np.nan)
        if converged.any():
            beta[converged] = self.evaluate(theta[converged], Y[converged], False)[4]
        return theta, beta, converged

    def _step(self, th, gg, HH, II, rtol: float, floor: float):
        """The projected Newton (or Fisher scoring) step of each replicate, the components
        free to move (not held at 0 with the gradient pointing below it), and whether the
        replicate has converged (nothing free, or a Newton step below ``rtol``)."""
        eye = np.eye(self.m)
        free = ~((th == 0.0) & (gg <= 0.0))
        none_free = ~free.any(axis=1)
        mask = free[:, :, None] & free[:, None, :]
        fixed_eye = eye * (~free)[:, :, None]
        A = np.where(mask, -HH, 0.0) + fixed_eye
        newton = np.all(np.linalg.eigvalsh(A) > 0.0, axis=1)
        A = np.where(newton[:, None, None], A, np.where(mask, II, 0.0) + fixed_eye)
        step = np.linalg.solve(A, (gg * free)[:, :, None])[:, :, 0]
        small = np.all(~free | (np.abs(step) <= rtol * np.maximum(th, floor)), axis=1)
        return step, free, none_free | (newton & small)

    def _line_search(self, Y, th, step, ll):
        """Step halving (at most 40 times) until the log-likelihood does not decrease:
        the new theta of each replicate and whether it got stuck."""
        t = np.ones(th.shape[0])
        new = np.maximum(th + step, 0.0)
        todo = np.arange(th.shape[0])
        for _halving in range(40):
            ll_new = self.evaluate(new[todo], Y[todo], False)[0]
            ok = np.isfinite(ll_new) & (ll_new >= ll[todo] - 1e-10 * np.maximum(1.0, np.abs(ll[todo])))
            todo = todo[~ok]
            if todo.size == 0:
                break
            t[todo] *= 0.5
            new[todo] = np.maximum(th[todo] + t[todo, None] * step[todo], 0.0)
        stuck = np.zeros(th.shape[0], dtype=bool)
        stuck[todo] = True
        return new, stuck
