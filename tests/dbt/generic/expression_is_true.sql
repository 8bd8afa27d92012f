{#- One failure per row for which `expression` (a SQL boolean over the model's columns) is
    not true (false or null). -#}
{% test expression_is_true(model, expression) %}

select * from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
