"""A deterministic synthetic corpus of CAR survey reports (about 10 KB of UTF-8 each) for the search
bench: templates filled from vocabularies of causes, places, insurers, parties, structures and
amounts. Report i depends only on (seed, i), so workers can generate slices independently."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from index.extract import IndexDocument

PLACES = [
    ("四川省", ["成都市", "雅安市", "绵阳市", "乐山市", "宜宾市", "甘孜藏族自治州"]),
    ("云南省", ["昆明市", "大理白族自治州", "曲靖市", "玉溪市"]),
    ("贵州省", ["贵阳市", "遵义市", "六盘水市", "黔东南苗族侗族自治州"]),
    ("广东省", ["广州市", "深圳市", "韶关市", "清远市"]),
    ("浙江省", ["杭州市", "温州市", "丽水市", "台州市"]),
    ("湖南省", ["长沙市", "怀化市", "湘西土家族苗族自治州"]),
    ("福建省", ["福州市", "三明市", "南平市"]),
    ("重庆市", ["重庆市"]),
    ("陕西省", ["西安市", "汉中市", "安康市"]),
    ("广西壮族自治区", ["南宁市", "柳州市", "桂林市"]),
]
INSURERS = [
    "中国人民财产保险股份有限公司", "中国平安财产保险股份有限公司", "中国太平洋财产保险股份有限公司",
    "中国人寿财产保险股份有限公司", "中华联合财产保险股份有限公司", "阳光财产保险股份有限公司",
    "太平财产保险有限公司", "中国大地财产保险股份有限公司", "华泰财产保险有限公司", "永安财产保险股份有限公司",
]
BRANCH = ["分公司", "中心支公司", "营业部"]
OWNERS = ["高速公路有限责任公司", "交通建设投资集团有限公司", "城市建设投资有限公司", "水利水电开发有限公司",
          "轨道交通集团有限公司", "市政工程管理处", "产业园区开发建设有限公司"]
CONTRACTORS = ["中铁二十局集团有限公司", "中交第二公路工程局有限公司", "中国水利水电第七工程局有限公司",
               "中建三局集团有限公司", "中铁十八局集团有限公司", "四川公路桥梁建设集团有限公司",
               "云南建投第一工程有限公司", "贵州桥梁建设集团有限责任公司", "中国葛洲坝集团第二工程有限公司"]
PROJECTS = ["高速公路{n}合同段路基工程", "国道改扩建工程第{n}标段", "城市快速路{n}标段", "水库枢纽工程{n}标",
            "隧道工程{n}合同段", "轨道交通{n}号线土建工程", "产业园区道路及管网工程{n}标段", "特大桥工程{n}标段"]
CAUSES = [
    ("暴雨", "连续强降雨致坡体饱水失稳", "边坡坍塌"),
    ("大暴雨", "短时强降雨冲刷坡面形成冲沟", "边坡冲刷"),
    ("山洪", "山洪暴发冲毁临时围堰及施工便道", "水毁"),
    ("泥石流", "沟谷泥石流淤埋施工场地", "淤埋损失"),
    ("台风", "台风带来的暴风及强降雨", "风灾损失"),
    ("涌水", "隧道掌子面突发涌水涌砂", "隧道塌方"),
    ("地面沉降", "软土地基不均匀沉降", "结构开裂"),
    ("塌孔", "钻孔灌注桩成孔过程中孔壁失稳塌孔", "桩基础损失"),
    ("雷击", "雷击致配电设备损坏", "设备损失"),
    ("洪水", "河道洪水漫溢淹没基坑", "基坑坍塌"),
]
STRUCTURES = ["锚杆框架梁", "浆砌片石护坡", "截水沟", "排水沟", "挡土墙", "抗滑桩", "拱形骨架护坡", "喷射混凝土",
              "预应力锚索", "钻孔灌注桩", "承台", "盖梁", "现浇箱梁", "初期支护", "二次衬砌", "钢板桩围堰",
              "基坑支护", "路基填筑", "水泥稳定碎石基层", "盖板涵", "圆管涵", "临时设施", "施工便道", "钢栈桥"]
UNITS = {"锚杆框架梁": "m³", "浆砌片石护坡": "m³", "截水沟": "m", "排水沟": "m", "挡土墙": "m³", "抗滑桩": "根"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "志强晓梅建国丽华海涛立军明辉文静伟国红霞俊杰玉兰德胜雪峰春燕永刚秀英家豪子涵思远晨阳"

DEDUCTIBLE_PHRASES = [
    "每次事故免赔额为人民币{d}元或损失金额的{r}%，以高者为准",
    "本保单约定每次事故绝对免赔额{d}元",
    "自然灾害造成的损失每次事故免赔额人民币{d}元",
    "免赔额{d}元，免赔率{r}%，两者以高者为准",
    "经核对，本案适用的免赔额为{d}元",
    "扣除免赔额后的理算金额如下",
]
FILLER = [
    "公估人接受委托后，于当日指派两名公估从业人员负责本案，并在三十分钟内与被保险人取得联系，约定查勘时间。",
    "查勘人员到达现场后，向被保险人出具客户告知书及施救告知书，并核对保单信息中的保险地址、保险标的与保险期限。",
    "现场采用无人机航拍与全站仪测量相结合的方法，逐项记录受损工程的名称、参数、位置、数量与损失情形。",
    "根据施工合同约定的工程量清单单价核定损失，合同无约定的参照当地定额单价或市场价格。",
    "被保险人提供了气象证明、监理日志、施工日志及签证单等索赔资料，公估人已逐项核对。",
    "经分析，本次事故的近因属于保险单列明的自然灾害，不属于责任免除范围，建议保险人予以赔付。",
    "受损财产的残值经双方协商折归被保险人，残值金额在核损金额中扣除。",
    "施救费用中合理必要的部分按被施救保险财产应保金额占全部被施救财产价值的比例分摊。",
    "公估人已向被保险人说明索赔资料清单的内容及提供时限，被保险人代表签收确认。",
    "本报告仅供保险双方处理本次事故索赔使用，不得用于其他用途。",
    "经三级审核（校对、复核、审核）后出具本报告，承办人员签名并加盖公估机构印章。",
    "出险前施工形象进度已完成设计工程量的百分之七十，受损部位均已完成隐蔽工程验收。",
    "保险竞合及重复保险情况已核实，本案不存在其他保险。",
    "变更改进费用不属于保险赔偿范围，已在核损中剔除。",
]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2])


def _amount(rng: random.Random, lo: int, hi: int) -> Decimal:
    return Decimal(rng.randrange(lo * 100, hi * 100)) / 100


def report(seed: int, i: int, target_bytes: int = 10_000) -> IndexDocument:
    rng = random.Random(seed * 1_000_003 + i)
    province, cities = rng.choice(PLACES)
    city = rng.choice(cities)
    insurer = f"{rng.choice(INSURERS)}{city.removesuffix('市')}{rng.choice(BRANCH)}"
    owner = f"{city.removesuffix('市')}{rng.choice(OWNERS)}"
    contractor = rng.choice(CONTRACTORS)
    project = rng.choice(PROJECTS).format(n=f"{rng.choice('ABCDEFGH')}{rng.randint(1, 12)}")
    project = f"{city.removesuffix('市')}{project}"
    cause, mechanism, loss_type = rng.choice(CAUSES)
    loss_day = date(2018, 1, 1) + timedelta(days=rng.randrange(0, 8 * 365))
    report_day = loss_day + timedelta(days=rng.randint(20, 120))
    deductible = rng.choice([5000, 10000, 20000, 50000, 100000])
    rate = rng.choice([5, 10, 20])
    handlers = (_name(rng), _name(rng))
    reviewers = (_name(rng), _name(rng), _name(rng))
    station = f"K{rng.randint(1, 180)}+{rng.randint(0, 999):03d}"
    structures = rng.sample(STRUCTURES, 6)
    # Each report uses its own few phrasings, so terms occur in some reports and not others.
    fillers = rng.sample(FILLER, 5)
    has_deductible = rng.random() < 0.75
    deductible_lines = (rng.sample(DEDUCTIBLE_PHRASES, 2) if has_deductible
                        else ["每次事故绝对免赔人民币{d}元", "扣除免赔金额后按投保比例理算"])
    damage = rng.sample(["开裂", "垮塌", "冲毁", "变形", "淤埋", "倾斜"], 3)
    outcomes = rng.sample(["经修复可恢复使用", "已无修复价值，按推定全损处理", "需拆除重建"], 2)

    parts = [
        f"{project}{station}{loss_type}损失公估报告",
        f"一、委托与受理。{insurer}委托本公司对{owner}投保的建筑工程一切险项下{loss_day:%Y年%m月%d日}发生的"
        f"{cause}事故进行查勘、检验、估损与理算。",
        f"二、保险合同。保险人：{insurer}；被保险人：{owner}及其承包商{contractor}；保单号PCAB{rng.randrange(10**15):015d}；"
        f"保险金额人民币{_amount(rng, 5_000_000, 900_000_000)}元。" + deductible_lines[0].format(d=deductible, r=rate) + "。",
        f"三、工程概况。{project}位于{province}{city}，建设单位为{owner}，施工方为{contractor}，"
        f"主要工程包括{'、'.join(structures[:4])}等。",
        f"四、出险经过。{loss_day:%Y年%m月%d日}，工程所在地遭遇{cause}，{mechanism}，造成{station}段"
        f"{structures[0]}及{structures[1]}受损，被保险人随即采取施救措施并向保险人报案。",
        f"五、事故原因分析。综合气象资料、现场查勘及询问记录，本次事故系{mechanism}所致，近因为{cause}。",
    ]
    size = sum(len(p.encode()) for p in parts)
    k = 0
    while size < target_bytes - 600:
        s = structures[k % len(structures)]
        qty = _amount(rng, 10, 5000)
        price = _amount(rng, 50, 3000)
        line = rng.choice([
            f"损失项目{k + 1}：{s}，位于{station}附近，核损数量{qty}{UNITS.get(s, 'm²')}，核损单价{price}元，依据施工合同单价。",
            rng.choice(fillers),
            f"{s}受{cause}影响出现{rng.choice(damage)}，{rng.choice(outcomes)}。",
            rng.choice(deductible_lines).format(d=deductible, r=rate) + "。",
        ])
        parts.append(line)
        size += len(line.encode())
        k += 1
    claimed = _amount(rng, 200_000, 20_000_000)
    assessed = (claimed * Decimal(rng.randint(40, 95)) / 100).quantize(Decimal("0.01"))
    adjusted = max(Decimal(0), assessed - deductible).quantize(Decimal("0.01"))
    parts.append(f"六、理算。应保金额与保险金额之比即投保比例按100%计，扣除残值及{'免赔额' if has_deductible else '免赔'}后，理算金额为人民币{adjusted}元。"
                 f"公估人：{handlers[0]}、{handlers[1]}。审核：{'、'.join(reviewers)}。")
    text = "\n".join(parts)
    return IndexDocument(
        doc_id=f"{report_day.year}/GC-{i:07d}/R-{i:07d}",
        case_id=f"GC-{i:07d}",
        report_number=f"R-{i:07d}",
        kind="car_survey",
        case_name=parts[0],
        insurer=insurer,
        insured=owner,
        policyholder=owner,
        project=project,
        province=province,
        city=city,
        loss_date=loss_day,
        report_date=report_day,
        cause=f"{mechanism}；{cause}",
        loss_type=loss_type,
        claimed_fen=int(claimed * 100),
        assessed_fen=int(assessed * 100),
        adjusted_fen=int(adjusted * 100),
        handlers=handlers,
        reviewers=reviewers,
        package_path=f"/archive/{report_day.year}/GC-{i:07d}/R-{i:07d}",
        text=text,
    )
