{#- Fails (or warns, with severity: warn) with the number of rows of the model, usually
    narrowed by the `where` config: e.g. the quarantined rows of one reason. -#}
{% test has_no_rows(model) %}

select * from {{ model }}

{% endtest %}
