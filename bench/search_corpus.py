"""Generated help desk text for bench/search.py: English, Polish (with diacritics) and
Chinese (no spaces) sentences, words drawn with a Zipf law from vocabularies with a long tail."""

from __future__ import annotations

import itertools
import random
from datetime import datetime
from typing import Any

FUNCTION = (
    "the to and a of i it is in you that for my on we this have be with not are can your "
    "was at as but our me from so if or do an all they will would please there what when "
    "has no been just one get also about any out up how which still again now"
).split()
EN = (
    "order invoice printer login password account refund payment delivery "
    "shipping error broken screen update install version server email support customer "
    "ticket issue problem help please thanks urgent request question billing subscription "
    "cancel upgrade mobile app android iphone browser chrome firefox network wifi router "
    "cable battery charger warranty replacement return damaged missing package tracking "
    "label address phone call meeting schedule report export import data backup restore "
    "database slow crash freeze reboot settings profile avatar notification alert sync "
    "calendar contact list file upload download attachment pdf spreadsheet document scanner "
    "toner paper jam cartridge ink melting frozen overheating noise vibration leak water "
    "discount coupon voucher price quote contract renewal license key activation trial "
    "demo training manual guide documentation feature bug regression performance latency "
    "timeout outage maintenance migration integration webhook token certificate domain dns"
).split()
PL = (
    "żółty rower zamówienie faktura drukarka hasło konto zwrot płatność dostawa przesyłka "
    "błąd ekran aktualizacja serwer pomoc proszę dziękuję pilne pytanie rachunek łańcuch "
    "opona koło gwarancja wymiana uszkodzony brakujący paczka śledzenie adres telefon "
    "spotkanie raport kopia zapasowa wolny zawieszenie ustawienia powiadomienie kalendarz "
    "plik załącznik dokument skaner papier tusz źdźbło gęś jaźń żółw ćma łódź śnieg mąka"
).split()
ZH = (
    "工单 系统 登录 密码 账户 退款 支付 配送 错误 屏幕 更新 服务器 邮件 客户 问题 帮助 "
    "谢谢 紧急 请求 订阅 取消 升级 手机 应用 网络 路由器 电池 保修 更换 包裹 地址 电话 "
    "会议 报告 数据 备份 恢复 数据库 缓慢 崩溃 设置 通知 日历 文件 上传 下载 附件 打印机"
).split()
FIRST = (
    "Melissa Anna Jan Zofia Łukasz Małgorzata Piotr Ewa Michael Sarah David Emma Jakub "
    "Wiktoria Tomasz Ślęzak Żaneta Ola Liam Noah"
).split()
LAST = (
    "Kowalski Nowak Wiśniewska Wójcik Kamińska Lewandowski Zieliński Szymańska Smith Jones "
    "Brown Taylor Łukasiewicz Żak Śliwa Melton Meller Baker Clark Lee"
).split()
TAGS = [
    "billing",
    "printer",
    "urgent",
    "vip",
    "refund",
    "login",
    "mobile",
    "invoice",
    "outage",
    "rower",
]


def _tail(rng: random.Random, n: int, syllables: list[str]) -> list[str]:
    """Word-like tail vocabulary (names, products, rare words): real text has thousands of
    rare words, and a search box usually asks for one of them."""
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(out)


_R = random.Random(1414)
EN_SYL = "ba ce di fo gu ka le mi no pu ra se ti vo wu ex an or ing er ton mar pel sun".split()
PL_SYL = "ża ło ść ki rz cz dź ą ę ó ń wy pr zy gr mo ta ko sz".split()
VOCAB = {
    # Function words first, the support vocabulary next, then a long tail: Zipf ranks.
    "en": FUNCTION + EN + _tail(_R, 15000, EN_SYL),
    "pl": ["i", "w", "nie", "na", "się", "to", "jest", "że", "z", "do"]
    + PL
    + _tail(_R, 8000, PL_SYL),
    "zh": ZH + ["".join(_R.sample(ZH, 1)[0][0] + _R.sample(ZH, 1)[0][1]) for _ in range(2000)],
}
CUMULATIVE = {
    k: list(itertools.accumulate(1 / (i + 1) for i in range(len(v)))) for k, v in VOCAB.items()
}


def zipf(lang: str, rng: random.Random, n: int) -> list[str]:
    """n words of a language's vocabulary, by a Zipf law over its ranks."""
    return rng.choices(VOCAB[lang], cum_weights=CUMULATIVE[lang], k=n)


def sentence(rng: random.Random, n: int) -> str:
    """A sentence of about n words: 70% English, 20% Polish, 10% Chinese (no spaces)."""
    r = rng.random()
    if r < 0.1:
        return "".join(zipf("zh", rng, n // 2))  # Chinese: no spaces
    words = zipf("pl" if r < 0.3 else "en", rng, n)
    return " ".join(words).capitalize() + "."


def stamp(dt: datetime, pg: bool) -> Any:
    """A timestamp as the bulk writer takes it (SQLite: text, as Tortoise stores it)."""
    return dt if pg else dt.isoformat(sep=" ")
