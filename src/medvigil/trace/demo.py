"""Demo records of the traceability app (loaded by `medvigil demo`): 12 products, 30
customers with valid, expiring and expired licences, 40 lots, about 400 units, sales from us
to dealers and hospitals and from dealers on to hospitals, installations, returns and one
drill. Device types and English names follow the FDA MAUDE sample in
shared/data/external/maude (icij_maude_1k_sample.tsv); the Chinese names are ours.
Deterministic (fixed random seed), idempotent (skipped when the demo products exist)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from .models import CustomerKind, LicenceKind, Product, RiskClass, Tracking, gtin_check_digit

DEMO_PREFIX = "DEMO-"

# code, Chinese name, English name (MAUDE generic name), model, class, tracking, implantable,
# shelf life (months), service life (years), warranty, maintenance, sale to individuals
PRODUCTS = [
    (
        "01",
        "胰岛素输注泵",
        "Insulin infusion pump",
        "IP-300",
        "III",
        "serial",
        False,
        None,
        5,
        24,
        12,
        True,
    ),
    (
        "02",
        "动态血糖监测系统",
        "Glucose monitoring system",
        "CGM-2",
        "II",
        "serial",
        False,
        None,
        3,
        12,
        None,
        True,
    ),
    ("03", "输液泵", "Infusion pump", "VP-100", "II", "serial", False, None, 8, 24, 12, False),
    (
        "04",
        "自动腹膜透析机",
        "Peritoneal dialysis system, automatic delivery",
        "APD-5",
        "III",
        "serial",
        False,
        None,
        8,
        24,
        6,
        False,
    ),
    (
        "05",
        "植入式程控输注泵",
        "Implanted programmable infusion pump",
        "IPP-8",
        "III",
        "serial",
        True,
        None,
        7,
        36,
        None,
        False,
    ),
    (
        "06",
        "数字化X射线透视摄影系统",
        "Fluoroscopic X-ray system",
        "FX-9000",
        "II",
        "serial",
        False,
        None,
        10,
        12,
        6,
        False,
    ),
    (
        "07",
        "植入式脊髓神经刺激器",
        "Spinal-cord stimulator, totally implanted",
        "SCS-3",
        "III",
        "serial",
        True,
        None,
        9,
        36,
        None,
        False,
    ),
    (
        "08",
        "植入式心律转复除颤器",
        "Implantable cardioverter defibrillator",
        "ICD-7",
        "III",
        "serial",
        True,
        None,
        8,
        36,
        None,
        False,
    ),
    (
        "09",
        "人工晶状体",
        "Intraocular lens",
        "IOL-A22",
        "III",
        "serial",
        True,
        60,
        None,
        0,
        None,
        False,
    ),
    (
        "10",
        "血糖试纸",
        "Blood glucose monitoring test strips",
        "GS-50",
        "II",
        "lot",
        False,
        18,
        None,
        0,
        None,
        True,
    ),
    (
        "11",
        "一次性使用输液器",
        "Intravascular administration set",
        "IV-S20",
        "III",
        "lot",
        False,
        36,
        None,
        0,
        None,
        False,
    ),
    (
        "12",
        "穿戴式心律转复除颤器",
        "Wearable cardioverter defibrillator",
        "WCD-4",
        "III",
        "serial",
        False,
        None,
        6,
        24,
        12,
        False,
    ),
]

MANUFACTURER = "华康医疗器械股份有限公司"

HOSPITALS = [
    ("上海市第一人民医院", "上海", "上海市虹口区海宁路100号"),
    ("复旦大学附属中山医院", "上海", "上海市徐汇区枫林路180号"),
    ("浙江大学医学院附属第一医院", "杭州", "浙江省杭州市庆春路79号"),
    ("江苏省人民医院", "南京", "江苏省南京市广州路300号"),
    ("苏州大学附属第一医院", "苏州", "江苏省苏州市十梓街188号"),
    ("北京协和医院", "北京", "北京市东城区帅府园1号"),
    ("四川大学华西医院", "成都", "四川省成都市国学巷37号"),
    ("中山大学附属第一医院", "广州", "广东省广州市中山二路58号"),
    ("武汉协和医院", "武汉", "湖北省武汉市解放大道1277号"),
    ("山东省立医院", "济南", "山东省济南市经五纬七路324号"),
    ("安徽医科大学第一附属医院", "合肥", "安徽省合肥市绩溪路218号"),
    ("福建医科大学附属协和医院", "福州", "福建省福州市新权路29号"),
    ("宁波市第二医院", "宁波", "浙江省宁波市西北街41号"),
    ("无锡市人民医院", "无锡", "江苏省无锡市清扬路299号"),
    ("温州医科大学附属第一医院", "温州", "浙江省温州市南白象街道"),
    ("常州市第一人民医院", "常州", "江苏省常州市局前街185号"),
    ("嘉兴市第一医院", "嘉兴", "浙江省嘉兴市中环南路1882号"),
    ("南通大学附属医院", "南通", ""),  # no address on file: its units count as not located
]
DEALERS = [
    ("华东医疗器械有限公司", "上海"),
    ("浙江康达医疗器械有限公司", "杭州"),
    ("江苏瑞和医药有限公司", "南京"),
    ("北京博康医疗科技有限公司", "北京"),
    ("广州南粤医疗器械有限公司", "广州"),
    ("成都西部医疗器械有限公司", "成都"),
    ("武汉楚康医疗器械有限公司", "武汉"),
    ("山东鲁医器械有限公司", "济南"),
    ("合肥安康医疗器械有限公司", "合肥"),
]
OTHERS = [("上海医学检验所有限公司", "上海"), ("杭州康复护理中心有限公司", "杭州")]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
DEPARTMENTS = [
    "心内科",
    "内分泌科",
    "ICU",
    "急诊科",
    "肾内科",
    "放射科",
    "眼科",
    "疼痛科",
    "手术室",
]


def _gtin(n: int) -> str:
    payload = f"069700000{n:04d}"
    return payload + str(gtin_check_digit(payload))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}"


def load_demo() -> None:
    if Product.objects.filter(code=f"{DEMO_PREFIX}01").exists():
        return
    from medvigil.accounts.models import User
    from medvigil.core.audit import audit_context

    actor = User.objects.filter(username="quality").first()
    with audit_context(actor=actor, source="command:demo") if actor else audit_context():
        _load(actor)


def _load(actor: Any) -> None:
    from medvigil.accounts.models import User

    from . import services

    rng = random.Random(20260301)
    today = timezone.localdate()
    L = services.LineInput
    sales_user = User.objects.filter(username="sales").first()
    logistics_user = User.objects.filter(username="logistics").first()
    engineer = User.objects.filter(username="engineer").first()

    products = []
    for i, row in enumerate(PRODUCTS, start=1):
        code, zh, en, model, risk, tracking, impl, shelf, life, warranty, maint, indiv = row
        expiry = today + dt.timedelta(days=rng.choice([90, 400, 800, 1200, 1500]))
        if i == 6:
            expiry = today + dt.timedelta(days=120)  # renewal due: on quality's work list
        reg_class = 3 if risk == "III" else 2
        reg_number = f"国械注准2021{reg_class}{i:02d}{rng.randint(1000, 9999)}"
        products.append(
            services.create_product(
                by=actor,
                code=f"{DEMO_PREFIX}{code}",
                name=zh,
                name_en=en.title(),
                model_spec=model,
                manufacturer=MANUFACTURER,
                registration_number=reg_number,
                registration_expiry=expiry,
                risk_class=RiskClass(risk),
                gtin=_gtin(i),
                tracking=Tracking(tracking),
                implantable=impl,
                shelf_life_months=shelf,
                service_life_years=life,
                warranty_months=warranty,
                maintenance_interval_months=maint,
                sale_to_individuals=indiv,
            )
        )

    def licence(cust: Any, kind: str, n: int, expires: dt.date | None) -> None:
        services.add_licence(
            by=actor,
            customer=cust,
            kind=kind,
            number=f"{cust.city or 'X'}{kind[:2].upper()}{n:05d}",
            issuer=f"{cust.city}市市场监督管理局"
            if kind == LicenceKind.BUSINESS
            else f"{cust.city}市药品监督管理局",
            issued_on=today - dt.timedelta(days=1500),
            expires_on=expires,
        )

    hospitals, dealers, others = [], [], []
    for n, (name, city, address) in enumerate(HOSPITALS, start=1):
        h = services.create_customer(
            by=actor,
            code=f"{DEMO_PREFIX}H{n:02d}",
            name=name,
            kind=CustomerKind.HOSPITAL,
            city=city,
            address=address,
            contact_person=f"{rng.choice(SURNAMES)}主任",
            phone=_phone(rng),
            owner=sales_user if n % 3 else None,
        )
        if n == 16:
            expires = today - dt.timedelta(days=30)  # expired: sales refused
        elif n in (3, 9):
            expires = today + dt.timedelta(days=25)  # expiring: on the owner's work list
        else:
            expires = today + dt.timedelta(days=rng.randint(400, 1800))
        licence(h, LicenceKind.PRACTICE, n, expires)
        hospitals.append(h)
    for n, (name, city) in enumerate(DEALERS, start=1):
        d = services.create_customer(
            by=actor,
            code=f"{DEMO_PREFIX}D{n:02d}",
            name=name,
            kind=CustomerKind.DEALER,
            city=city,
            address=f"{city}市经济开发区{rng.randint(1, 300)}号",
            contact_person=f"{rng.choice(SURNAMES)}经理",
            phone=_phone(rng),
            credit_code=f"91{rng.randint(10**15, 10**16 - 1)}",
            owner=sales_user,
        )
        licence(d, LicenceKind.BUSINESS, n, None)
        if n == 8:
            licence(d, LicenceKind.FILING, n, None)  # class II only
        elif n == 9:
            licence(d, LicenceKind.OPERATING, n, today - dt.timedelta(days=10))  # expired
        else:
            licence(d, LicenceKind.OPERATING, n, today + dt.timedelta(days=rng.randint(300, 1500)))
        dealers.append(d)
    for n, (name, city) in enumerate(OTHERS, start=1):
        o = services.create_customer(
            by=actor,
            code=f"{DEMO_PREFIX}O{n:02d}",
            name=name,
            kind=CustomerKind.OTHER,
            city=city,
            address=f"{city}市科技园{n}号",
            phone=_phone(rng),
        )
        licence(o, LicenceKind.BUSINESS, 50 + n, None)
        licence(o, LicenceKind.FILING, 50 + n, None)
        others.append(o)
    person = services.create_customer(
        by=actor,
        code=f"{DEMO_PREFIX}P01",
        name="张晓明",
        kind=CustomerKind.INDIVIDUAL,
        city="上海",
        address="上海市浦东新区张杨路500弄",
        phone=_phone(rng),
    )

    # customers whose licences allow every class on the sale dates below
    good_hospitals = [h for n, h in enumerate(hospitals, start=1) if n != 16]
    good_dealers = dealers[:7]

    # 40 lots: 36 of serialised products (about 11 units each), 4 of lot-tracked ones
    serial_products = [p for p in products if p.tracking == Tracking.SERIAL]
    lot_products = [p for p in products if p.tracking == Tracking.LOT]
    lots = []
    for n in range(40):
        prod = serial_products[n % len(serial_products)] if n < 36 else lot_products[n % 2]
        produced = today - dt.timedelta(days=60 + 11 * (40 - n))
        lots.append(
            services.create_lot(
                by=actor,
                product=prod,
                lot_number=f"{produced:%y%m}{prod.code[-2:]}{n:02d}",
                production_date=produced,
                quantity=11 if prod.tracking == Tracking.SERIAL else 2000,
                production_record=f"DHR-{produced:%Y%m%d}-{n:02d}",
                released_on=produced + dt.timedelta(days=5),
            )
        )
    all_units = []
    for lot_obj in lots[:36]:
        serials = [
            f"{lot_obj.product.model_spec.split('-')[0]}{lot_obj.lot_number}{k:02d}"
            for k in range(1, 12)
        ]
        built = [
            services.build_unit(product=lot_obj.product, lot=lot_obj, serial=s) for s in serials
        ]
        all_units.extend(services.create_units(built, by=actor))

    # sales: most units leave; half through a dealer, most of those sold on to hospitals
    rng.shuffle(all_units)
    for k, unit in enumerate(all_units):
        roll = rng.random()
        if roll < 0.2:
            continue  # stays in stock
        base_day = (unit.production_date or today) + dt.timedelta(days=rng.randint(10, 40))
        sale_day = min(base_day, today - dt.timedelta(days=20))
        if roll < 0.6:
            dealer = rng.choice(good_dealers)
            services.create_sale(
                seller=None,
                buyer=dealer,
                sale_date=sale_day,
                lines=[L(unit=unit)],
                by=sales_user,
                reference=f"FP{sale_day:%Y%m%d}{k:03d}",
            )
            if rng.random() < 0.75:
                end = rng.choice(good_hospitals)
                on_day = min(
                    sale_day + dt.timedelta(days=rng.randint(3, 15)), today - dt.timedelta(days=10)
                )
                services.create_sale(
                    seller=dealer,
                    buyer=end,
                    sale_date=on_day,
                    lines=[L(unit=unit)],
                    by=sales_user,
                    handler_name=f"{rng.choice(SURNAMES)}{rng.choice('伟芳娜敏强')}",
                )
                _maybe_install(services, unit, end, on_day, rng, engineer, today)
        else:
            end = rng.choice(good_hospitals)
            services.create_sale(
                seller=None,
                buyer=end,
                sale_date=sale_day,
                lines=[L(unit=unit)],
                by=sales_user,
            )
            _maybe_install(services, unit, end, sale_day, rng, engineer, today)

    # an individual buys a home-use device
    home = next(
        u
        for u in all_units
        if u.product.sale_to_individuals and u.status == "in_stock" and not u.sale_lines.exists()
    )
    services.create_sale(
        seller=None,
        buyer=person,
        sale_date=today - dt.timedelta(days=5),
        lines=[L(unit=home)],
        by=sales_user,
    )

    # lot-tracked goods: quantities to dealers, hospitals and a filing-only dealer (class II)
    for lot_obj in lots[36:]:
        day = min(lot_obj.production_date + dt.timedelta(days=20), today - dt.timedelta(days=15))
        services.create_sale(
            seller=None,
            buyer=good_dealers[0],
            sale_date=day,
            lines=[L(lot=lot_obj, quantity=600)],
            by=sales_user,
        )
        services.create_sale(
            seller=good_dealers[0],
            buyer=good_hospitals[0],
            sale_date=day,
            lines=[L(lot=lot_obj, quantity=400)],
            by=sales_user,
        )
        services.create_sale(
            seller=None,
            buyer=good_hospitals[2],
            sale_date=day,
            lines=[L(lot=lot_obj, quantity=500)],
            by=sales_user,
        )
        if lot_obj.product.risk_class == RiskClass.II:
            services.create_sale(
                seller=None,
                buyer=dealers[7],
                sale_date=day,
                lines=[L(lot=lot_obj, quantity=100)],
                by=sales_user,
            )

    # returns: a hospital returns to its dealer, a dealer returns to us
    from .models import SaleLine, Unit

    onward = list(
        SaleLine.objects.filter(
            open=True, seller__isnull=False, unit__status="sold_on"
        ).select_related("unit", "buyer", "seller")[:2]
    )
    for line in onward[:1]:
        services.record_return(
            unit=line.unit,
            returned_by=line.buyer,
            returned_to=line.seller,
            return_date=today - dt.timedelta(days=3),
            reason="包装破损，医院要求退换",
            by=logistics_user,
        )
    at_dealer = Unit.objects.filter(status="sold", holder__kind="dealer").first()
    if at_dealer is not None:
        services.record_return(
            unit=at_dealer,
            returned_by=at_dealer.holder,
            return_date=today - dt.timedelta(days=2),
            reason="报警功能异常，退回厂家检测",
            disposition="pending",
            by=logistics_user,
        )

    # one drill on an implantable lot
    implant_lot = next(lot_obj for lot_obj in lots if lot_obj.product.implantable)
    if actor is not None:
        services.start_drill(implant_lot, by=actor)


def _maybe_install(
    services: Any,
    unit: Any,
    hospital: Any,
    day: dt.date,
    rng: random.Random,
    engineer: Any,
    today: dt.date,
) -> None:
    if unit.product.implantable or rng.random() > 0.7:
        return
    installed = min(day + dt.timedelta(days=rng.randint(1, 7)), today)
    accepted = installed + dt.timedelta(days=rng.randint(0, 5)) if rng.random() < 0.85 else None
    if accepted and accepted > today:
        accepted = today
    services.install_unit(
        unit,
        customer=hospital,
        installed_on=installed,
        accepted_on=accepted,
        department=rng.choice(DEPARTMENTS),
        address=hospital.address,
        contact_person=f"{rng.choice(SURNAMES)}护士长",
        contact_phone=_phone(rng),
        by=engineer,
        installed_by=engineer,
    )
