"""Trial submissions for the nbgrader pipeline test, one entry per exercise.

``tests/test_exercise_pipeline.py`` builds, for every exercise folder, a
student who submits the instructor's solution with some answer cells
replaced (by ``grade_id``) and checks how the autograder treats them:

``wrong``
    At least two cases, one per misconception the exercise card names. Each
    is ``{"misconception": text, "part": grade_id, "answers": {...}}``: the
    submission must score strictly between 0 and full marks, the test cell
    ``part`` must earn 0, and ``text`` must appear in the feedback. Every
    other graded cell must keep its points (no mistake paid twice) unless
    the case lists it in ``"also_fails"`` (a cell that grades the same
    answer, e.g. all four gradients of one backward pass).
``hardcoded``
    ``{"part": grade_id, "answers": {...}}``: right numbers typed in for the
    visible check points only. The visible checks pass, a hidden check fails,
    so ``part`` earns 0 and its error is a ``HiddenTestFailure``.
``imported``
    ``{"part": grade_id, "answers": {...}}`` or None: the answer imported from
    nablakit (where the package has it). ``part`` earns 0 and says why.

To add an exercise, add its entry here; the pipeline test picks the folder
up by itself and fails until the entry exists.

Typical slips and whether the feedback names them ("case": a wrong entry
below proves it through nbgrader; "named": recognised by the checks, shown
in-process only; "no": the feedback says what was expected but names no
mistake). Sources: the seeds' table of common mistakes, the chapters'
warnings, the exercise cards.

======  ==========================================================  =====
ex      slip                                                        named
======  ==========================================================  =====
01 (a)  dropped minus sign in d/dz of -e^(bxz)                      case
01 (a)  missing inner factor b*z (or b*x) of e^(bxz)                case
01 (a)  missing inner factor 2y (or 2z) of ln(y^2 + z^2)            named
01 (b)  components in another order                                 named
01 (c)  differentiated in one variable only                         case
01 (d)  missing chain-rule factor 2*w1; the saddle left out         case
02      not normalised; descent for ascent; cross term xy dropped   case, named
02 (c)  a circle for the ellipse; the gradient for the tangent      case, named
02 (d)  xy coefficient in one entry of Q; eigenvalues of 2Q         case, named
03      sign of d/dx cos x; u_max, u_min swapped; only one zero dir case, named
03 (d)  a non-unit u accepted; v used without normalising           case
04      2Ax for a non-symmetric A; one cross term only              case, named
04      missing 1/m or 2, sign; an explicit inverse                 case, named
05      missing 1/m; missing 2; sign; initial loss left out         case
05      stepping uphill; closed form copied for GD; slow=divergent  named
06 (a)  forward differences; x changed in place; h for 2h           case
06 (b)  absolute error; one norm (or the larger) in the denominator case
06 (b)  squared norms; elementwise errors; no floor for 0/0         named
06 (d)  loss summed; gradient missing 1/m; sign; overflow           case, named
07      -pp^T missing; sign of p - y; overflow; softmax unnormalised case
07 (a)  off-diagonal entries missing                                named
07 (d)  norm of the probabilities instead of the gradient           case
08      plain for natural gradient; per-observation Fisher; swapped case
08 (b)  Fisher's factor 2 missing; inverse; in (mu, sigma^2)        case, named
08 (a)  derivative in sigma^2; average for sum                      named
08 (a)  sigma^2 for sigma^3 in d/d sigma                            case
09 (a)  value clipping; per-array norms; norms added; total after   case
09 (a)  square root missing; scale inverted; always rescaled; 0/0   named
09 (b)  cosine taken as 1; dot product for the cosine               case
09 (c)  equal-weight micro-batch means; means added; last dropped   case, named
10      sign of det, trace or diagonal only; zero eigenvalue=saddle case
10      1/lambda_max, 2/lambda_min, coefficient for eigenvalue      case, named
10 (d)  every sigmoid factor at the input x; wrong end; Frobenius   case, named
11      missing transpose; bias not summed; 1/m; sign; ReLU mask    case
11      relu'(0) = 1; loss summed; overflow; flipped label; (1 - y) case
11      bias gradient averaged (mean) instead of summed             case
11 (d)  only some blocks checked; absolute error; a typed number    case
======  ==========================================================  =====

About 80 slips in these rows, all named. A slip outside the table gets the
message of its check (what was expected, what was received) without a name.
"""

CASES = {}

CASES["ex01-partial-derivatives"] = {
    "wrong": [
        {
            "misconception": "missing chain-rule factor 2*w1",
            "part": "ex01-d-grad-L",
            "answers": {"ex01-d-grad-answer": """
                def grad_L(w):
                    w1, w2 = w
                    inner = w1**2 - w2
                    return np.array([2 * inner, -2 * inner + 2 * (w2 - 1)])
            """},
        },
        {
            "misconception": "sign error in the derivative of -e^(bxz)",
            "part": "ex01-a-df-dz",
            "answers": {"ex01-a-answer": """
                def df_dx(x, y, z):
                    return 3 * a * x**2 * y**2 - b * z * np.exp(b * x * z)


                def df_dy(x, y, z):
                    return 2 * a * x**3 * y + 2 * y / (y**2 + z**2)


                def df_dz(x, y, z):
                    return b * x * np.exp(b * x * z) + 2 * z / (y**2 + z**2)
            """},
        },
        {
            "misconception": "missing chain-rule factor b*z",
            "part": "ex01-a-df-dx",
            "answers": {"ex01-a-answer": """
                def df_dx(x, y, z):
                    return 3 * a * x**2 * y**2 - np.exp(b * x * z)


                def df_dy(x, y, z):
                    return 2 * a * x**3 * y + 2 * y / (y**2 + z**2)


                def df_dz(x, y, z):
                    return -b * x * np.exp(b * x * z) + 2 * z / (y**2 + z**2)
            """},
        },
        {
            "misconception": "missing the saddle point",
            "part": "ex01-d-critical-points",
            "answers": {"ex01-d-points-answer": "critical_points_L = [(1.0, 1.0), (-1.0, 1.0)]"},
        },
        {
            "misconception": "differentiated in one variable only",
            "part": "ex01-c-d2f-dxdy",
            "answers": {"ex01-c-answer": """
                def d2f_dxdy(x, y, z):
                    return 3 * x**2 * y**2 - z * np.exp(x * z)


                def d2f_dydx(x, y, z):
                    return 6 * x**2 * y
            """},
        },
    ],
    "hardcoded": {
        "part": "ex01-a-df-dx",
        "answers": {"ex01-a-answer": """
            def df_dx(x, y, z):
                known = {(1.0, 2.0, 0.5): 11.175639364649935, (-0.7, 1.3, -1.1): 4.860042879163407,
                         (0.4, -0.9, 2.0): -4.062281856984936}
                return known.get((x, y, z), 0.0)


            def df_dy(x, y, z):
                return 2 * x**3 * y + 2 * y / (y**2 + z**2)


            def df_dz(x, y, z):
                return -x * np.exp(x * z) + 2 * z / (y**2 + z**2)
        """},
    },
    # nablakit has no ready-made answer for these partial derivatives.
    "imported": None,
}

CASES["ex02-gradient-geometry"] = {
    "wrong": [
        {
            "misconception": "not normalised",
            "part": "ex02-b-steepest-ascent",
            "answers": {"ex02-b-answer": """
                def steepest_ascent(p):
                    g = grad_f(p)
                    return None if np.allclose(g, 0) else g
            """},
        },
        {
            "misconception": "the xy coefficient put in one off-diagonal entry",
            "part": "ex02-d-matrix",
            "answers": {"ex02-d-answer": """
                Q = np.array([[alpha, beta], [0.0, gamma]])
                Q_eigenvalues = np.linalg.eigvals(Q)
            """},
        },
        {
            "misconception": "points on the circle x^2 + y^2 = c",
            "part": "ex02-c-level-curve",
            "answers": {"ex02-c-curve-answer": """
                def level_curve(c, n):
                    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
                    return np.sqrt(c) * np.column_stack([np.cos(angle), np.sin(angle)])
            """},
        },
    ],
    "hardcoded": {
        "part": "ex02-a-grad-f",
        "answers": {"ex02-a-answer": """
            def grad_f(p):
                known = {(1.0, -1.0): (1.0, -1.0), (0.0, 0.0): (0.0, 0.0), (2.0, 3.0): (7.0, 8.0)}
                return known.get(tuple(float(t) for t in p), (0.0, 0.0))
        """},
    },
    "imported": {
        "part": "ex02-b-steepest-ascent",
        "answers": {"ex02-b-answer": """
            from nablakit.calculus import steepest_ascent as package_steepest_ascent


            def steepest_ascent(p):
                return package_steepest_ascent(grad_f(p))
        """},
    },
}

CASES["ex03-directional-derivatives"] = {
    "wrong": [
        {
            "misconception": "accepting a non-unit u",
            "part": "ex03-d-function",
            "answers": {"ex03-d-function-answer": """
                def directional_derivative(grad, u):
                    return float(np.dot(grad, u))
            """},
        },
        {
            "misconception": "used v without normalising it",
            "part": "ex03-d-values",
            "answers": {"ex03-d-values-answer": """
                D_along_34 = float(grad_f_at_a @ np.array([3.0, 4.0]))
                D_along_11 = float(grad_f_at_a @ np.array([1.0, 1.0]))
            """},
        },
        {
            "misconception": "sign error (d/dx cos x = -sin x)",
            "part": "ex03-a-gradient",
            "answers": {"ex03-a-answer": """
                x_a, y_a = a
                grad_f_at_a = np.array([y_a * np.cos(x_a * y_a) + np.sin(x_a), x_a * np.cos(x_a * y_a)])
            """},
        },
        {
            "misconception": "u_max and u_min swapped",
            "part": "ex03-b-directions",
            "answers": {"ex03-b-answer": """
                u_max, u_min = np.array([1.0, 0.0]), np.array([-1.0, 0.0])
                D_max, D_min = 1.0, -1.0
            """},
        },
    ],
    "hardcoded": {
        "part": "ex03-d-function",
        "answers": {"ex03-d-function-answer": """
            def directional_derivative(grad, u):
                if abs(np.linalg.norm(u) - 1) > 1e-8:
                    raise ValueError("u must be a unit vector")
                known = {0.921061: -1.1972771888419835, -0.970958: 0.8791182218634379, 0.540302: -0.5403023058681398}
                return known.get(round(float(u[0]), 6), 0.0)
        """},
    },
    "imported": {
        "part": "ex03-d-function",
        "answers": {"ex03-d-function-answer": "from nablakit.calculus import directional_derivative"},
    },
}

CASES["ex04-matrix-calculus"] = {
    "wrong": [
        {
            "misconception": "2Ax holds only for a symmetric A",
            "part": "ex04-b-grad-quadratic",
            "answers": {"ex04-b-answer": """
                def grad_quadratic(A, x):
                    return 2 * np.asarray(A) @ np.asarray(x)
            """},
        },
        {
            "misconception": "missing the 1/m factor",
            "part": "ex04-d-mse-gradient",
            "answers": {"ex04-d-gradient-answer": """
                def mse_gradient(X, y, w):
                    return 2 * X.T @ (X @ w - y)
            """},
        },
        {
            "misconception": "explicit matrix inverse",
            "part": "ex04-d-normal-equation",
            "answers": {"ex04-d-solution-answer": """
                def normal_equation_solution(X, y):
                    return np.linalg.inv(X.T @ X) @ X.T @ y
            """},
        },
    ],
    "hardcoded": {
        "part": "ex04-b-grad-quadratic",
        "answers": {"ex04-b-answer": """
            def grad_quadratic(A, x):
                known = {(2.0, 1.0, 1.0, 3.0): [0.0, -5.0], (2.0, 1.0, -3.0, 4.0): [4.0, -9.0],
                         (0.0, 1.0, 2.0, 0.0, 1.0, 0.0, -1.0, 0.5, 1.0): [1.0, 4.5, 0.0]}
                return np.array(known.get(tuple(np.ravel(A)), np.zeros(len(x))))
        """},
    },
    "imported": {
        "part": "ex04-d-mse-gradient",
        "answers": {"ex04-d-gradient-answer": "from nablakit.losses import mse_grad as mse_gradient"},
    },
}

CASES["ex05-linear-regression"] = {
    "wrong": [
        {
            "misconception": "missing the 1/m factor",
            "part": "ex05-b-mse-grad",
            "answers": {"ex05-b-answer": """
                def mse_grad(X, y, w):
                    return 2 * X.T @ (X @ w - y)
            """},
        },
        {
            "misconception": "missing the factor 2",
            "part": "ex05-b-mse-grad",
            "answers": {"ex05-b-answer": """
                def mse_grad(X, y, w):
                    return X.T @ (X @ w - y) / len(y)
            """},
        },
        {
            "misconception": "sign flipped",
            "part": "ex05-b-mse-grad",
            "answers": {"ex05-b-answer": """
                def mse_grad(X, y, w):
                    return 2 / len(y) * X.T @ (y - X @ w)
            """},
        },
        {
            "misconception": "the initial loss MSE(w0) is missing",
            "part": "ex05-c-gradient-descent",
            "answers": {"ex05-c-answer": """
                def gradient_descent(X, y, lr, steps):
                    w = np.zeros(X.shape[1])
                    losses = []
                    for _ in range(steps):
                        w = w - lr * mse_grad(X, y, w)
                        losses.append(mse(X, y, w))
                    return w, losses
            """},
        },
    ],
    "hardcoded": {
        "part": "ex05-b-mse-grad",
        "answers": {"ex05-b-answer": """
            def mse_grad(X, y, w):
                known = {
                    (0.0, 0.0, 0.0): [-4.713950789421292, 1.9318072523138283, -0.7022800806819072],
                    (1.0, 1.0, 1.0): [-2.264212955006479, 4.130140207428378, 1.2615015247344958],
                    (2.0, -1.0, 0.5): [0.01146241738485181, 0.09106542225841001, 0.09608205899064255],
                }
                return np.array(known.get(tuple(np.round(w, 9)), np.zeros(len(w))))
        """},
    },
    "imported": {
        "part": "ex05-b-mse-grad",
        "answers": {"ex05-b-answer": "from nablakit.losses import mse_grad"},
    },
}

CASES["ex06-gradient-checking"] = {
    "wrong": [
        {
            "misconception": "forward differences (one-sided, error of order h)",
            "part": "ex06-a-numerical-gradient",
            "answers": {"ex06-a-answer": """
                def numerical_gradient(f, x, h=1e-5):
                    x = np.array(x, dtype=float)
                    grad = np.zeros_like(x)
                    fx = f(x)
                    for idx in np.ndindex(x.shape):
                        step = np.zeros_like(x)
                        step[idx] = h
                        grad[idx] = (f(x + step) - fx) / h
                    return grad
            """},
        },
        {
            "misconception": "modifying x in place",
            "part": "ex06-a-in-place",
            "answers": {"ex06-a-answer": """
                def numerical_gradient(f, x, h=1e-5):
                    grad = np.zeros(x.shape)
                    for idx in np.ndindex(x.shape):
                        old = x[idx]
                        x[idx] = old + h
                        f_plus = f(x)
                        x[idx] = old - h
                        f_minus = f(x)
                        x[idx] = old
                        grad[idx] = (f_plus - f_minus) / (2 * h)
                    return grad
            """},
        },
        {
            "misconception": "absolute error",
            "part": "ex06-b-relative-error",
            "answers": {"ex06-b-relative-error-answer": """
                def relative_error(a, b):
                    return float(np.linalg.norm(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)))
            """},
        },
        {
            "misconception": "divided by h instead of 2h",
            "part": "ex06-a-numerical-gradient",
            "answers": {"ex06-a-answer": """
                def numerical_gradient(f, x, h=1e-5):
                    x = np.array(x, dtype=float)
                    grad = np.zeros_like(x)
                    for idx in np.ndindex(x.shape):
                        step = np.zeros_like(x)
                        step[idx] = h
                        grad[idx] = (f(x + step) - f(x - step)) / h
                    return grad
            """},
        },
        {
            "misconception": "instead of the sum of the two norms",
            "part": "ex06-b-relative-error",
            "answers": {"ex06-b-relative-error-answer": """
                def relative_error(a, b):
                    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
                    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-12))
            """},
        },
        {
            "misconception": "sum over the samples instead of the mean",
            "part": "ex06-d-loss",
            "answers": {"ex06-d-loss-answer": """
                def logistic_loss(w, X, y):
                    z = X @ w
                    return float(np.sum(np.logaddexp(0.0, z) - y * z))
            """},
        },
        {
            "misconception": "missing 1/m (sum over the samples instead of the mean)",
            "part": "ex06-d-grad",
            "answers": {"ex06-d-grad-answer": """
                def logistic_grad(w, X, y):
                    p = 0.5 * (1.0 + np.tanh(0.5 * (X @ w)))
                    return X.T @ (p - y)
            """},
        },
    ],
    "hardcoded": {
        "part": "ex06-b-lsq",
        "answers": {"ex06-b-lsq-grad-answer": """
            def lsq_grad(w):
                if np.allclose(w, [0.49560327678002974, 0.3181445011036235, -0.254527904507233, 1.8140779814742283]):
                    return np.array([17.089939400793455, 24.38064405060296, -4.054768189293768, 40.49867318824949])
                return np.zeros(4)
        """},
    },
    "imported": {
        "part": "ex06-a-numerical-gradient",
        "answers": {"ex06-a-answer": "from nablakit.numdiff import numerical_gradient"},
    },
}

CASES["ex07-softmax-gradient"] = {
    "wrong": [
        {
            "misconception": "missing the -p p^T term",
            "part": "ex07-a-jacobian",
            "answers": {"ex07-a-jacobian-answer": """
                def softmax_jacobian(z):
                    return np.diag(softmax(z))
            """},
        },
        {
            "misconception": "sign of p - y flipped",
            "part": "ex07-b-ce-grad",
            "answers": {"ex07-b-answer": """
                def ce_grad(z, y):
                    return np.asarray(y, dtype=float) - softmax(z)
            """},
        },
        {
            "misconception": "not normalised (the exponentials are not divided by their sum)",
            "part": "ex07-a-softmax",
            "also_fails": ["ex07-a-jacobian"],   # softmax_jacobian is built on softmax in the same part
            "answers": {"ex07-a-softmax-answer": """
                def softmax(z):
                    z = np.asarray(z, dtype=float)
                    return np.exp(z - np.max(z))
            """},
        },
        {
            "misconception": "the norm of the probabilities p instead of the gradient p - y",
            "part": "ex07-d-norms",
            "answers": {"ex07-d-answer": """
                grad_norm_confident_correct = float(np.linalg.norm(softmax(z_confident_correct)))
                grad_norm_confident_wrong = float(np.linalg.norm(softmax(z_confident_wrong)))
            """},
        },
        {
            "misconception": "exponentiating large logits directly (overflow)",
            "part": "ex07-a-softmax",
            "answers": {"ex07-a-softmax-answer": """
                def softmax(z):
                    e = np.exp(np.asarray(z, dtype=float))
                    return e / e.sum()
            """},
        },
    ],
    "hardcoded": {
        "part": "ex07-b-ce-grad",
        "answers": {"ex07-b-answer": """
            def ce_grad(z, y):
                if np.allclose(z, [1.5, -0.5, 0.2, 0.9]) and np.argmax(y) == 2:
                    return np.array([0.5110701075658441, 0.06916581776118963, -0.8607171472189948, 0.28048122189196095])
                return np.zeros(len(z))
        """},
    },
    "imported": {
        "part": "ex07-a-softmax",
        "answers": {"ex07-a-softmax-answer": "from nablakit.losses import softmax"},
    },
}

CASES["ex08-natural-gradient"] = {
    "wrong": [
        {
            "misconception": "plain gradient instead of the natural gradient",
            "part": "ex08-c-natural-gradient",
            "answers": {"ex08-c-answer": """
                def natural_gradient(data, mu, sigma):
                    return loglik_grad(data, mu, sigma)
            """},
        },
        {
            "misconception": "per-observation Fisher F used with the gradient of all m observations",
            "part": "ex08-c-natural-gradient",
            "answers": {"ex08-c-answer": """
                def natural_gradient(data, mu, sigma):
                    return np.linalg.solve(fisher_information(sigma), loglik_grad(data, mu, sigma))
            """},
        },
        {
            "misconception": "the factor 2 of the sigma entry missing",
            "part": "ex08-b-fisher",
            "answers": {"ex08-b-answer": """
                def fisher_information(sigma):
                    return np.diag([1 / sigma**2, 1 / sigma**2])
            """},
        },
        {
            "misconception": "divided by sigma^2 instead of sigma^3",
            "part": "ex08-a-loglik-grad",
            "answers": {"ex08-a-answer": """
                def loglik_grad(data, mu, sigma):
                    r = np.asarray(data, dtype=float) - mu
                    return np.array([np.sum(r) / sigma**2, -r.size / sigma + np.sum(r**2) / sigma**2])
            """},
        },
        {
            "misconception": "plain and natural gradient swapped",
            "part": "ex08-d-ngd-path",
            "answers": {"ex08-d-paths-answer": """
                def ascent_path(direction):
                    path = [theta0]
                    for _ in range(T):
                        path.append(path[-1] + lr * direction(*path[-1]))
                    return np.array(path)


                gd_path = ascent_path(lambda mu, sigma: loglik_grad(data_d, mu, sigma) / data_d.size)
                ngd_path = gd_path.copy()
            """},
        },
    ],
    "hardcoded": {
        "part": "ex08-a-loglik-grad",
        "answers": {"ex08-a-answer": """
            def loglik_grad(data, mu, sigma):
                known = {(1.0, 0.7): [3.877551020408164, 1.66180758017493], (-0.5, 2.0): [2.725, -0.1612499999999999]}
                return np.array(known.get((mu, sigma), [0.0, 0.0]))
        """},
    },
    "imported": {
        "part": "ex08-b-fisher",
        "answers": {"ex08-b-answer": "from nablakit.training import gaussian_fisher as fisher_information"},
    },
}

CASES["ex09-clipping-accumulation"] = {
    "wrong": [
        {
            "misconception": "value clipping (each entry cut to [-c, c]) turns the direction",
            "part": "ex09-a-clip-large",
            "answers": {"ex09-a-answer": """
                def clip_by_global_norm(grads, max_norm):
                    arrays = [np.asarray(g, dtype=float) for g in grads]
                    total = float(np.sqrt(sum(np.sum(g * g) for g in arrays)))
                    return [np.clip(g, -max_norm, max_norm) for g in arrays], total
            """},
        },
        {
            "misconception": "each array clipped by its own norm instead of the global norm",
            "part": "ex09-a-clip-large",
            "answers": {"ex09-a-answer": """
                def clip_by_global_norm(grads, max_norm):
                    arrays = [np.asarray(g, dtype=float) for g in grads]
                    total = float(np.sqrt(sum(np.sum(g * g) for g in arrays)))
                    clipped = []
                    for g in arrays:
                        norm = np.linalg.norm(g)
                        clipped.append(g * max_norm / norm if norm > max_norm else g)
                    return clipped, total
            """},
        },
        {
            "misconception": "total_norm measured after clipping instead of before",
            "part": "ex09-a-clip-large",
            "answers": {"ex09-a-answer": """
                def clip_by_global_norm(grads, max_norm):
                    arrays = [np.asarray(g, dtype=float) for g in grads]
                    total = float(np.sqrt(sum(np.sum(g * g) for g in arrays)))
                    scale = min(1.0, max_norm / total) if total > 0 else 1.0
                    return [g * scale for g in arrays], total * scale
            """},
        },
        {
            "misconception": "the arrays' own norms added up instead of one norm over all entries",
            "part": "ex09-a-clip-large",
            "also_fails": ["ex09-a-clip-small"],   # the same total_norm, checked below the threshold too
            "answers": {"ex09-a-answer": """
                def clip_by_global_norm(grads, max_norm):
                    arrays = [np.asarray(g, dtype=float) for g in grads]
                    total = float(sum(np.linalg.norm(g) for g in arrays))
                    scale = min(1.0, max_norm / total) if total > 0 else 1.0
                    return [g * scale for g in arrays], total
            """},
        },
        {
            "misconception": "assuming value clipping keeps the direction",
            "part": "ex09-b-cosine",
            "answers": {"ex09-b-cosine-answer": "cosine_after_value_clip = 1.0"},
        },
        {
            "misconception": "the dot product not divided by the two norms",
            "part": "ex09-b-cosine",
            "answers": {"ex09-b-cosine-answer": "cosine_after_value_clip = float(np.dot(g_b, clip_by_value(g_b, c_b)))"},
        },
        {
            "misconception": "equal-weight averaging of unequal micro-batches",
            "part": "ex09-c-unequal-batches",
            "answers": {"ex09-c-answer": """
                def accumulated_gradient(X, y, w, micro_batch):
                    means = []
                    for start in range(0, len(y), micro_batch):
                        Xb, yb = X[start:start + micro_batch], y[start:start + micro_batch]
                        means.append(2 * Xb.T @ (Xb @ w - yb) / len(yb))
                    return np.mean(means, axis=0)
            """},
        },
    ],
    "hardcoded": {
        "part": "ex09-c-equal-batches",
        "answers": {"ex09-c-answer": """
            def accumulated_gradient(X, y, w, micro_batch):
                known = {8: [0.5338151532429585, 6.111508296031848, -2.476292914554185],
                         10: [0.19835382262880003, 5.146533567569513, -2.402592240266693]}
                return np.array(known.get(len(y), [0.0, 0.0, 0.0]))
        """},
    },
    "imported": {
        "part": "ex09-a-clip-large",
        "answers": {"ex09-a-answer": "from nablakit.training import clip_by_global_norm"},
    },
}

CASES["ex10-loss-landscape"] = {
    "wrong": [
        {
            "misconception": "sign of the determinant only",
            "part": "ex10-a-classify",
            "answers": {"ex10-a-classify-answer": """
                def classify_critical_point(H):
                    det = np.linalg.det(H)
                    if abs(det) <= 1e-8:
                        return "degenerate"
                    return "minimum" if det > 0 else "saddle"
            """},
        },
        {
            "misconception": "signs of the diagonal entries or of the trace only",
            "part": "ex10-a-classify",
            "answers": {"ex10-a-classify-answer": """
                def classify_critical_point(H):
                    d = np.diag(np.asarray(H, dtype=float))
                    if np.any(np.abs(d) <= 1e-8):
                        return "degenerate"
                    if np.all(d > 0):
                        return "minimum"
                    if np.all(d < 0):
                        return "maximum"
                    return "saddle"
            """},
        },
        {
            "misconception": "a zero eigenvalue counted as negative",
            "part": "ex10-a-classify",
            "answers": {"ex10-a-classify-answer": """
                def classify_critical_point(H):
                    ev = np.linalg.eigvalsh(np.asarray(H, dtype=float))
                    if np.all(ev > 1e-8):
                        return "minimum"
                    if np.all(ev < -1e-8):
                        return "maximum"
                    return "saddle"
            """},
        },
        {
            "misconception": "the stability bound 1/lambda_max instead of 2/lambda_max",
            "part": "ex10-c-max-lr",
            "answers": {"ex10-c-lr-answer": "max_stable_lr = 1.0 / 200.0"},
        },
        {
            "misconception": "the stability bound 2/lambda_min instead of 2/lambda_max",
            "part": "ex10-c-max-lr",
            "answers": {"ex10-c-lr-answer": "max_stable_lr = 2.0 / 2.0"},
        },
        {
            "misconception": "every factor evaluated at the input x instead of at its own layer's input",
            "part": "ex10-d-sigmoid",
            "answers": {"ex10-d-sigmoid-answer": """
                def sigmoid_chain_grad(depth, x=0.0):
                    s = 1.0 / (1.0 + np.exp(-x))
                    return (s * (1.0 - s)) ** depth
            """},
        },
    ],
    "hardcoded": {
        "part": "ex10-c-steps",
        "answers": {"ex10-c-steps-answer": """
            def steps_to_converge(kappa):
                return {1: 1, 10: 132, 100: 1375}.get(kappa, 100)
        """},
    },
    "imported": {
        "part": "ex10-b-plain",
        "answers": {"ex10-b-answer": "from nablakit.optimizers import noisy_gd"},
    },
}

_EX11_BACKWARD = """
    def backward(params, cache, y):
        X, a, h, z = cache["X"], cache["a"], cache["h"], cache["z"]
        m = X.shape[0]
        p = 0.5 * (1.0 + np.tanh(0.5 * z))
        dz = {dz}
        dh = np.outer(dz, params["W2"])
        da = dh * {mask}
        return {{"W1": {dW1}, "b1": {db1}, "W2": h.T @ dz, "b2": float(dz.sum())}}
"""


def _ex11_backward(dz="(p - y) / m", mask="relu_grad(a)", dW1="X.T @ da", db1="da.sum(axis=0)"):
    return _EX11_BACKWARD.format(dz=dz, mask=mask, dW1=dW1, db1=db1)


_EX11_GRADIENT_CHECK = """
    def gradient_check(params, X, y, forward_fn, loss_fn, backward_fn):
        keys = {keys}
        analytic = backward_fn(params, forward_fn(params, X)[1], y)
        ga, gn = [], []
        for key in keys:
            value = np.array(params[key], dtype=float)
            grad = np.zeros_like(value)
            for idx in np.ndindex(value.shape):
                step = np.zeros_like(value)
                step[idx] = 1e-5
                grad[idx] = (loss_fn(dict(params, **{{key: value + step}}), X, y)
                             - loss_fn(dict(params, **{{key: value - step}}), X, y)) / 2e-5
            ga.append(np.ravel(np.asarray(analytic[key], dtype=float)))
            gn.append(np.ravel(grad))
        ga, gn = np.concatenate(ga), np.concatenate(gn)
        return float(np.linalg.norm(ga - gn) / {scale})


    grad_check_error = gradient_check(params_check, X_check, y_check, forward, loss, backward)
"""


def _ex11_gradient_check(keys="list(params)", scale="max(np.linalg.norm(ga) + np.linalg.norm(gn), 1e-12)"):
    return _EX11_GRADIENT_CHECK.format(keys=keys, scale=scale)


CASES["ex11-backpropagation"] = {
    "wrong": [
        {
            "misconception": "a missing transpose",
            "part": "ex11-c-hidden-layer",
            "answers": {"ex11-c-answer": _ex11_backward(dW1="da.T @ X")},
        },
        {
            "misconception": "bias gradients not summed over the batch",
            "part": "ex11-c-hidden-layer",
            "answers": {"ex11-c-answer": _ex11_backward(db1="da")},
        },
        {
            "misconception": "the mean's 1/m forgotten",
            "part": "ex11-c-output-layer",
            "also_fails": ["ex11-c-hidden-layer"],   # one slip at the logits: all four gradients of (c) are off
            "answers": {"ex11-c-answer": _ex11_backward(dz="p - y")},
        },
        {
            "misconception": "sign of p - y flipped",
            "part": "ex11-c-output-layer",
            "also_fails": ["ex11-c-hidden-layer"],
            "answers": {"ex11-c-answer": _ex11_backward(dz="(y - p) / m")},
        },
        {
            "misconception": "bias gradient averaged over the batch (mean) instead of summed",
            "part": "ex11-c-hidden-layer",
            "answers": {"ex11-c-answer": _ex11_backward(db1="da.mean(axis=0)")},
        },
        {
            "misconception": "the ReLU mask taken from the wrong quantity",
            "part": "ex11-c-hidden-layer",
            "answers": {"ex11-c-answer": _ex11_backward(mask="relu_grad(X @ params['W1'])")},
        },
        {
            "misconception": "derivative 1 at a = 0",
            "part": "ex11-a-relu-grad",
            "answers": {"ex11-a-answer": """
                def relu_grad(a):
                    return (np.asarray(a, dtype=float) >= 0).astype(float)
            """},
        },
        {
            "misconception": "sum over the examples instead of the mean",
            "part": "ex11-b-loss",
            "answers": {"ex11-b-loss-answer": """
                def loss(params, X, y):
                    z, _ = forward(params, X)
                    return float(np.sum(np.logaddexp(0.0, z) - y * z))
            """},
        },
        {
            "misconception": "sign of the label term flipped",
            "part": "ex11-b-loss",
            "answers": {"ex11-b-loss-answer": """
                def loss(params, X, y):
                    z, _ = forward(params, X)
                    return float(np.mean(np.logaddexp(0.0, z) + y * z))
            """},
        },
        {
            "misconception": "(1 - y) in place of y",
            "part": "ex11-b-loss",
            "answers": {"ex11-b-loss-answer": """
                def loss(params, X, y):
                    z, _ = forward(params, X)
                    p = 0.5 * (1.0 + np.tanh(0.5 * z))
                    return float(np.mean(-(1 - y) * np.log(p) - y * np.log(1 - p)))
            """},
        },
        {
            "misconception": "not every parameter block is checked",
            "part": "ex11-d-gradient-check",
            "answers": {"ex11-d-answer": _ex11_gradient_check(keys='["W2"]')},
        },
        {
            "misconception": "absolute error",
            "part": "ex11-d-gradient-check",
            "answers": {"ex11-d-answer": _ex11_gradient_check(scale="1.0")},
        },
        {
            "misconception": "gradient_check(params_check, X_check, y_check, forward, loss, backward)",
            "part": "ex11-d-gradient-check",
            "answers": {"ex11-d-answer": _ex11_gradient_check().replace(
                "gradient_check(params_check, X_check, y_check, forward, loss, backward)", "3e-9")},
        },
        {
            "misconception": "exponentiating a large |z| directly",
            "part": "ex11-b-loss",
            "answers": {"ex11-b-loss-answer": """
                def loss(params, X, y):
                    z, _ = forward(params, X)
                    p = 1.0 / (1.0 + np.exp(-z))
                    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
            """},
        },
    ],
    "hardcoded": {
        "part": "ex11-a-relu-grad",
        "answers": {"ex11-a-answer": """
            def relu_grad(a):
                return np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 1.0]])
        """},
    },
    "imported": {
        "part": "ex11-b-loss",
        "answers": {"ex11-b-loss-answer": """
            from nablakit.losses import logistic_loss


            def loss(params, X, y):
                z, cache = forward(params, X)
                h = np.maximum(np.asarray(X) @ params["W1"] + params["b1"], 0.0)
                design = np.column_stack([h, np.ones(len(h))])
                return logistic_loss(np.append(params["W2"], params["b2"]), design, y)
        """},
    },
}
