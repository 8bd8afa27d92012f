{#- Building blocks of the calibration and edge-capture models (DESIGN.md, "Calibration and
    model evaluation"). Versioned models share them: a new model version that changes one of
    these definitions copies it under a new name instead of editing it, so that the versions
    still served keep their meaning (models/marts/calibration/_calibration__docs.md). -#}


{#- Scale of the published numeric metrics: exact sums are divided once, at 40 decimal places,
    and the results rounded to this many. -#}
{% macro calibration_scale() %}20{% endmacro %}


{#- a / b as numeric, carried to at least 40 decimal places (PostgreSQL gives a quotient the
    scale of its dividend, and at least 16 significant digits); null when b = 0. -#}
{% macro exact_ratio(numerator, denominator) -%}
    (round(({{ numerator }})::numeric, 40) / nullif(({{ denominator }})::numeric, 0))
{%- endmacro %}


{#- The reliability bin of probability p among `bins` uniform bins, right-closed like
    scikit-learn's calibration_curve (strategy='uniform'): bin 0 = [0, 1/K], bin k =
    (k/K, (k+1)/K] for k >= 1, i.e. max(ceil(p*K) - 1, 0). Exact for numeric p. -#}
{% macro calibration_bin(probability, bins) -%}
    greatest(ceil(({{ probability }}) * {{ bins }}) - 1, 0)::integer
{%- endmacro %}


{#- Log loss of one forecast, numeric: -ln(p) if the outcome is 1, -ln(1 - p) if 0, with p
    clipped to [1e-15, 1 - 1e-15] (so a certain forecast that is wrong costs 34.54, not
    infinity). PostgreSQL's numeric ln carries at least 16 significant digits. -#}
{% macro clipped_log_loss(probability, outcome) -%}
    -ln(
        case when ({{ outcome }}) = 1
            then greatest(least(({{ probability }})::numeric, 1 - 1e-15), 1e-15)
            else 1 - greatest(least(({{ probability }})::numeric, 1 - 1e-15), 1e-15)
        end
    )
{%- endmacro %}


{#- p0 + p1 x + ... in Horner form; `coefficients` from the highest degree down. -#}
{% macro _horner(x, coefficients) -%}
    {%- set ns = namespace(expression=coefficients[0] ~ '::float8') -%}
    {%- for coefficient in coefficients[1:] -%}
        {%- set ns.expression = '(' ~ ns.expression ~ ') * ' ~ x ~ ' + ' ~ coefficient ~ '::float8' -%}
    {%- endfor -%}
    {{ ns.expression }}
{%- endmacro %}


{#- Two-sided p-value of a standard normal statistic z: P(|Z| >= |z|) = erfc(|z| / sqrt(2)),
    double precision; null when z is null.

    PostgreSQL 16 has no erf/erfc. This is W. J. Cody's rational Chebyshev approximation of
    erf/erfc (Math. Comp. 1969; netlib specfun CALERF), the algorithm behind many libm erfc:
    three intervals of the argument, relative error near double-precision rounding (the tests
    compare it with scipy.stats.norm.sf to 1e-13 relative over 0 <= |z| <= 37). Arguments past
    26.543 (|z| > 37.5), where erfc is below the smallest normal double, give 0 (float8 exp
    would raise an underflow error there). -#}
{% macro normal_two_sided_p_value(z) -%}
    {%- set a = ['1.85777706184603153e-1', '3.16112374387056560e00', '1.13864154151050156e02',
                 '3.77485237685302021e02', '3.20937758913846947e03'] -%}
    {%- set b = ['1', '2.36012909523441209e01', '2.44024637934444173e02',
                 '1.28261652607737228e03', '2.84423683343917062e03'] -%}
    {%- set c = ['2.15311535474403846e-8', '5.64188496988670089e-1', '8.88314979438837594e00',
                 '6.61191906371416295e01', '2.98635138197400131e02', '8.81952221241769090e02',
                 '1.71204761263407058e03', '2.05107837782607147e03', '1.23033935479799725e03'] -%}
    {%- set d = ['1', '1.57449261107098347e01', '1.17693950891312499e02',
                 '5.37181101862009858e02', '1.62138957456669019e03', '3.29079923573345963e03',
                 '4.36261909014324716e03', '3.43936767414372164e03', '1.23033935480374942e03'] -%}
    {%- set p = ['1.63153871373020978e-2', '3.05326634961232344e-1', '3.60344899949804439e-1',
                 '1.25781726111229246e-1', '1.60837851487422766e-2', '6.58749161529837803e-4'] -%}
    {%- set q = ['1', '2.56852019228982242e00', '1.87295284992346047e00',
                 '5.27905102951428412e-1', '6.05183413124413191e-2', '2.33520497626869185e-3'] -%}
    (
        select
            case
                when erfc_argument.y is null then null
                when erfc_argument.y <= 0.46875 then
                    1 - erfc_argument.y * ({{ _horner('erfc_argument.y_squared', a) }})
                        / ({{ _horner('erfc_argument.y_squared', b) }})
                when erfc_argument.y <= 4 then
                    ({{ _horner('erfc_argument.y', c) }}) / ({{ _horner('erfc_argument.y', d) }})
                    * exp(-erfc_argument.y_trunc * erfc_argument.y_trunc)
                    * exp(-(erfc_argument.y - erfc_argument.y_trunc)
                        * (erfc_argument.y + erfc_argument.y_trunc))
                when erfc_argument.y < 26.543 then
                    (0.56418958354775628695::float8
                        - erfc_argument.y_inverse_squared
                        * ({{ _horner('erfc_argument.y_inverse_squared', p) }})
                        / ({{ _horner('erfc_argument.y_inverse_squared', q) }}))
                    / erfc_argument.y
                    * exp(-erfc_argument.y_trunc * erfc_argument.y_trunc)
                    * exp(-(erfc_argument.y - erfc_argument.y_trunc)
                        * (erfc_argument.y + erfc_argument.y_trunc))
                else 0::float8
            end
        from (
            select
                y,
                -- Only where used: y * y would overflow for |z| > 1e154.
                case when y <= 0.46875 then y * y end as y_squared,
                case when y > 4 and y < 26.543 then 1 / (y * y) end as y_inverse_squared,
                case when y < 26.543 then trunc(y * 16) / 16 end as y_trunc
            from (select abs(({{ z }})::float8) / sqrt(2::float8) as y) as absolute_argument
        ) as erfc_argument
    )
{%- endmacro %}
