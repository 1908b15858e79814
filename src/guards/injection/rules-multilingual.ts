/**
 * Injection rules for French, German, Spanish, Portuguese, Italian, Dutch, Polish, Russian, Chinese,
 * Japanese and Korean: overrides, personas, "no limits", developer mode, prompt extraction, bare mentions.
 */
import { type Rule, rule } from './rule.ts';

export const MULTILINGUAL_RULES: Rule[] = [
  // French
  rule(
    'override',
    'fr.drop-rules',
    `⟨(?:ignore[rz]?|oublie[rz]?|néglige[rz]?|ne (?:tiens|tenez) (?:pas|plus) compte|fai(?:s|tes) abstraction|passe[rz]? outre|outrepasse[rz]?)⟩ .{0,40}⟨(?:instructions?|consignes?|règles?|directives?|indications?|limites)⟩`,
  ),
  rule('mode', 'fr.mode', `⟨mode (?:développeur|dev)⟩`),
  rule(
    'persona',
    'fr.persona',
    `⟨mode (?:dieu|sans (?:filtre|restriction|censure))⟩|⟨tu es (?:maintenant|désormais) (?:une? )?(?:ia|dan)⟩`,
  ),
  rule('unrestricted', 'fr.no-limits', `⟨sans (?:aucune? )?(?:restrictions?|filtres?|censure|limites?)⟩`),
  rule(
    'extraction',
    'fr.reveal',
    `⟨(?:révèle|affiche|montre|donne|dis|répète|écris|imprime|copie)[rsz]?(?:-moi)?⟩ .{0,40}⟨(?:prompt|message|instructions?|consignes?) (?:système|initiales?|cachées?|secrètes?)⟩|⟨(?:ton|votre) prompt⟩|⟨mot pour mot⟩|⟨mot de passe (?:administrateur|admin)⟩`,
  ),
  // German
  rule(
    'override',
    'de.drop-rules',
    `⟨(?:ignorier(?:e|en|t)?|vergiss|vergessen sie|missacht(?:e|en)|übergeh(?:e|en)|beachte ~4nicht|setze? ~3außer kraft)⟩ .{0,40}⟨(?:anweisungen|anweisung|regeln|richtlinien|vorgaben|befehle|instruktionen|einschränkungen)⟩`,
  ),
  rule('mode', 'de.mode', `⟨entwicklermodus⟩`),
  rule('persona', 'de.persona', `⟨du bist (?:jetzt|nun|ab jetzt) (?:eine? )?(?:ki|dan)⟩`),
  rule(
    'unrestricted',
    'de.no-limits',
    `⟨ohne (?:jegliche |alle |irgendwelche )?(?:einschränkungen|zensur|filter|grenzen)⟩`,
  ),
  rule(
    'extraction',
    'de.reveal',
    `⟨(?:zeige?|gib|verrate|nenne|wiederhole|drucke|schreibe)⟩ .{0,40}⟨(?:systemprompt|system-prompt|systemnachricht|versteckten anweisungen|admin-passwort|passwort)⟩|⟨wörtlich⟩`,
  ),
  // Spanish
  rule(
    'override',
    'es.drop-rules',
    `⟨(?:ignora|ignorar|olvida|olvide|olvidar|no hagas caso|haz caso omiso|omite|descarta|sáltate)⟩ .{0,40}⟨(?:instrucciones|reglas|indicaciones|directrices|normas|órdenes|restricciones)⟩`,
  ),
  rule('mode', 'es.mode', `⟨modo (?:desarrollador|dev)⟩`),
  rule(
    'persona',
    'es.persona',
    `⟨modo (?:dios|sin (?:filtros?|censura|restricciones))⟩|⟨puede hacer cualquier cosa⟩`,
  ),
  rule(
    'unrestricted',
    'es.no-limits',
    `⟨sin (?:ninguna |ningún )?(?:restricciones|filtros?|censura|límites)⟩`,
  ),
  rule(
    'extraction',
    'es.reveal',
    `⟨(?:revela|muestra|muéstrame|dime|dame|repite|imprime|escribe)⟩ .{0,40}⟨(?:prompt|mensaje|instrucciones) (?:del sistema|de sistema|ocultas|iniciales|secretas)⟩|⟨contraseña del administrador⟩|⟨palabra por palabra⟩`,
  ),
  // Portuguese
  rule(
    'override',
    'pt.drop-rules',
    `⟨(?:ignore|ignora|ignorar|esqueça|esquece|esquecer|desconsidere|desconsidera|desconsiderar|despreze|não (?:siga|obedeça))⟩ .{0,40}⟨(?:instruções|instrução|regras|orientações|diretrizes|ordens|comandos|restrições)⟩`,
  ),
  rule('mode', 'pt.mode', `⟨modo (?:desenvolvedor|dev)⟩`),
  rule(
    'persona',
    'pt.persona',
    `⟨modo (?:deus|sem (?:filtros?|censura|restrições))⟩|⟨pode fazer qualquer coisa⟩`,
  ),
  rule(
    'unrestricted',
    'pt.no-limits',
    `⟨sem (?:nenhuma |nenhum |qualquer )?(?:restrições|filtros?|censura|limites)⟩`,
  ),
  rule(
    'extraction',
    'pt.reveal',
    `⟨(?:revele|mostre|mostra|diga|repita|imprima)⟩ .{0,40}⟨(?:prompt|mensagem|instruções) (?:do sistema|de sistema|ocultas|iniciais|secretas)⟩|⟨senha do administrador⟩|⟨na íntegra⟩|⟨palavra por palavra⟩`,
  ),
  // Italian
  rule(
    'override',
    'it.drop-rules',
    `⟨(?:ignora|ignorare|ignori|dimentica|dimenticare|dimentichi|non considerare|non tenere conto|trascura|tralascia|scavalca)⟩ .{0,40}⟨(?:istruzioni|regole|direttive|indicazioni|linee guida|ordini|comandi|restrizioni)⟩`,
  ),
  rule('mode', 'it.mode', `⟨modalità (?:sviluppatore|sviluppo|dev)⟩`),
  rule(
    'persona',
    'it.persona',
    `⟨modalità (?:dio|senza (?:filtri|censure|restrizioni))⟩|⟨può fare qualsiasi cosa⟩`,
  ),
  rule(
    'unrestricted',
    'it.no-limits',
    `⟨senza (?:alcuna |nessuna )?(?:restrizioni?|filtri|censure?|limiti)⟩`,
  ),
  rule(
    'extraction',
    'it.reveal',
    `⟨(?:rivela|mostrami|mostra|dimmi|ripeti|stampa|scrivi)⟩ .{0,40}⟨(?:prompt|messaggio|istruzioni) (?:di sistema|del sistema|nascoste|iniziali|segrete)⟩|⟨password dell'amministratore⟩|⟨parola per parola⟩`,
  ),
  // Dutch, Polish
  rule(
    'override',
    'nl.drop-rules',
    `⟨(?:negeer|vergeet|omzeil)⟩ .{0,40}⟨(?:instructies|regels|richtlijnen|opdrachten|beperkingen)⟩`,
  ),
  rule('mode', 'nl.mode', `⟨ontwikkelaarsmodus⟩`),
  rule('unrestricted', 'nl.no-limits', `⟨zonder (?:beperkingen|filter|censuur)⟩`),
  rule(
    'override',
    'pl.drop-rules',
    `⟨(?:zignoruj|ignoruj|zapomnij)⟩ .{0,40}(?:instrukcj|zasad|reguł|polece)`,
  ),
  rule('mode', 'pl.mode', `⟨tryb (?:deweloperski|dewelopera)⟩`),
  rule('unrestricted', 'pl.no-limits', `⟨bez (?:ograniczeń|cenzury|filtrów)⟩`),
  rule(
    'mention',
    'xx.system-prompt',
    `⟨(?:systeemprompt|prompt systemowy|systemprompt|system-prompt|prompt (?:système|del sistema|de sistema|di sistema|do sistema))⟩`,
  ),
  // Russian
  rule(
    'override',
    'ru.drop-rules',
    `(?:игнорируй|игнорируйте|проигнорируй|забудь|забудьте|не обращай(?:те)? внимания на|не слушай|не следуй|отбрось|пренебреги).{0,40}(?:инструкци|указани|правил|ограничени|команд|директив)`,
  ),
  rule('mode', 'ru.mode', `режим разработчика`),
  rule('persona', 'ru.persona', `ты (?:теперь|сейчас) (?:ии|dan)⟩`),
  rule('unrestricted', 'ru.no-limits', `без (?:каких-либо |всяких |любых )?(?:ограничений|цензуры|фильтров)`),
  rule(
    'extraction',
    'ru.reveal',
    `(?:покажи|выведи|раскрой|напиши|скажи|повтори|дай)⟩.{0,30}(?:промпт|сообщени|инструкци|пароль)|пароль администратора|дословно`,
  ),
  rule('mention', 'ru.system-prompt', `системн(?:ый|ое|ые|ого) (?:промпт|сообщени|инструкци)`),
  // Chinese
  rule(
    'override',
    'zh.drop-rules',
    `(?:忽略|无视|忽视|不要理会|不要理|别管|忘记|忘掉|抛开|放弃|跳过|不要遵守|不再遵守).{0,8}(?:指令|指示|说明|规则|设定|要求|限制|命令)`,
  ),
  rule('mode', 'zh.mode', `开发者模式|开发模式`),
  rule('persona', 'zh.persona', `越狱模式|你(?:现在)?是一个?(?:没有|不受)`),
  rule(
    'unrestricted',
    'zh.no-limits',
    `没有(?:任何)?(?:限制|过滤|审查)|不受(?:任何)?(?:限制|过滤|约束|审查)|无限制|无过滤|无审查`,
  ),
  rule(
    'extraction',
    'zh.reveal',
    `(?:告诉|输出|显示|打印|给我|透露|泄露|重复|说出|展示).{0,10}(?:系统提示|系统消息|系统指令|初始指令|隐藏指令|密码)|管理员密码|逐字`,
  ),
  rule('mention', 'zh.system-prompt', `系统提示|系统消息|系统指令`),
  // Japanese
  rule(
    'override',
    'ja.drop-rules',
    `(?:指示|命令|ルール|規則|設定|制約|制限|ガイドライン).{0,8}(?:無視|忘れ|従わず|従わない|破棄|取り消)`,
  ),
  rule('mode', 'ja.mode', `開発者モード`),
  rule('persona', 'ja.persona', `脱獄モード|(?:今から|これから)あなたは`),
  rule(
    'unrestricted',
    'ja.no-limits',
    `制限のない|制限なし|検閲なし|検閲のない|フィルターなし|フィルターのない`,
  ),
  rule(
    'extraction',
    'ja.reveal',
    `(?:システムプロンプト|システムメッセージ|隠された指示|パスワード).{0,8}(?:表示|出力|教え|見せ|開示)|管理者パスワード|一字一句`,
  ),
  rule('mention', 'ja.system-prompt', `システムプロンプト|システムメッセージ`),
  // Korean
  rule(
    'override',
    'ko.drop-rules',
    `(?:지시|명령|규칙|지침|설정|제한).{0,8}(?:무시|잊어)|(?:무시|잊어).{0,8}(?:지시|규칙|명령)`,
  ),
  rule('mode', 'ko.mode', `개발자 모드`),
  rule('unrestricted', 'ko.no-limits', `제한 없는|제한 없이|검열 없이|검열 없는|필터 없이`),
  rule('extraction', 'ko.reveal', `시스템 프롬프트.{0,8}(?:보여|출력|알려)|관리자 비밀번호`),
  rule('mention', 'ko.system-prompt', `시스템 프롬프트`),
];
