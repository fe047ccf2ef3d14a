"""The page partials of templates/components/ as pages include them."""

from __future__ import annotations

from django import forms
from django.template import Context, Template


class _Form(forms.Form):
    name = forms.CharField()


def _render(source: str, **context) -> str:
    return Template("{% load i18n %}" + source).render(Context(context)).strip()


def test_a_button_takes_a_form_id_but_not_the_pages_django_form():
    page_form = _Form()

    inside = _render('{% include "components/button.html" with label="Go" %}', form=page_form)
    elsewhere = _render(
        '{% include "components/button.html" with label="Go" form="other-form" %}', form=page_form
    )

    assert inside == '<button type="submit">Go</button>'
    assert elsewhere == '<button type="submit" form="other-form">Go</button>'
