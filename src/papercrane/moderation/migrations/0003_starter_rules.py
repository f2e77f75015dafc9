"""A starter set of community rules in English and Chinese, for the operator to edit in the
admin (reports and decisions always cite one, so a new site needs some)."""

from django.db import migrations

RULES = [
    (
        "spam",
        "No spam or fake engagement",
        "禁止垃圾信息和虚假互动",
        "Don't post the same thing again and again, mass-advertise, or buy or sell likes, "
        "follows or comments.",
        "请勿重复发布相同内容、批量发广告，或买卖点赞、关注和评论。",
        "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
        1,
    ),
    (
        "scams",
        "No scams or fraud",
        "禁止诈骗",
        "Don't trick people out of money or personal details, and don't sell things you "
        "cannot deliver.",
        "请勿骗取他人钱财或个人信息，也不要出售无法交付的商品。",
        "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        3,
    ),
    (
        "harassment",
        "Respect other people",
        "尊重他人",
        "No insults, threats, bullying or hateful attacks on anyone, including for their "
        "language or where they come from.",
        "禁止辱骂、威胁、欺凌或仇恨攻击，包括针对他人的语言或出身。",
        "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        2,
    ),
    (
        "sexual-content",
        "No sexual content",
        "禁止色情内容",
        "No nudity or sexual content. Never anything sexual involving minors.",
        "禁止裸露和色情内容。绝不允许任何涉及未成年人的性内容。",
        "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        3,
    ),
    (
        "violence",
        "No violence or dangerous acts",
        "禁止暴力和危险行为",
        "Don't threaten, glorify or encourage violence, self-harm or dangerous challenges.",
        "请勿威胁、美化或鼓励暴力、自我伤害或危险挑战。",
        "STATEMENT_CATEGORY_VIOLENCE",
        3,
    ),
    (
        "privacy",
        "Respect privacy",
        "尊重隐私",
        "Don't share other people's personal information, private photos or whereabouts "
        "without their consent.",
        "未经同意，请勿公开他人的个人信息、私密照片或行踪。",
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        2,
    ),
    (
        "copyright",
        "Post what is yours to post",
        "只发布你有权发布的内容",
        "Don't post photos or texts that someone else owns without their permission.",
        "未经许可，请勿发布他人拥有版权的照片或文字。",
        "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        1,
    ),
    (
        "unsafe-products",
        "No unsafe or illegal goods",
        "禁止危险或违法商品",
        "Don't promote or sell weapons, drugs, counterfeits or other unsafe or illegal "
        "products and services.",
        "请勿推广或出售武器、毒品、假货或其他危险、违法的商品和服务。",
        "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS_OR_SERVICES",
        3,
    ),
]


def add_rules(apps, schema_editor):
    Rule = apps.get_model("moderation", "Rule")
    for position, (code, title_en, title_zh, body_en, body_zh, category, severity) in enumerate(
        RULES
    ):
        Rule.objects.get_or_create(
            code=code,
            defaults={
                "title_en": title_en,
                "title_zh": title_zh,
                "body_en": body_en,
                "body_zh": body_zh,
                "category": category,
                "severity": severity,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("moderation", "0002_audit_append_only")]

    operations = [migrations.RunPython(add_rules, migrations.RunPython.noop)]
