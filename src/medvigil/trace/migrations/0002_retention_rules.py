"""Retention rules of the traceability records (TRC-9, PLAT-5). Data only (the schema is in
0001); reversible. Rows that already exist (e.g. edited by an administrator) are kept."""

from django.db import migrations

CITATION = (
    "TRC-9: 《医疗器械经营质量管理规范》/《医疗器械经营监督管理办法》(2022) 进货查验记录和销售"
    "记录应当保存至医疗器械有效期满后2年; 无有效期的, 不得少于5年; 植入类医疗器械进货查验记录和"
    "销售记录应当永久保存. seed 001 (保存至产品有效期或使用期限过后一年以上) is less strict."
)
RETURN_CITATION = CITATION + " Returns (退货记录, seed 001 四.4) are kept like sales records."

# model, basis, years after expiry, minimum years without expiry, permanent if implantable
RULES = [
    ("sale", "expiry", 2, 5, True, CITATION),
    ("returnrecord", "expiry", 2, 5, True, RETURN_CITATION),
]


def create_rules(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    RetentionRule = apps.get_model("core", "RetentionRule")
    for model, basis, years, minimum, permanent, citation in RULES:
        ct, _ = ContentType.objects.get_or_create(app_label="trace", model=model)
        RetentionRule.objects.get_or_create(
            content_type=ct,
            defaults={
                "basis": basis,
                "years": years,
                "minimum_years": minimum,
                "permanent_if_implantable": permanent,
                "citation": citation[:300],
            },
        )


def remove_rules(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    RetentionRule = apps.get_model("core", "RetentionRule")
    for model, *_rest in RULES:
        ct = ContentType.objects.filter(app_label="trace", model=model).first()
        if ct is not None:
            RetentionRule.objects.filter(content_type=ct, citation__startswith="TRC-9").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("trace", "0001_initial"),
        ("core", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_rules, remove_rules)]
