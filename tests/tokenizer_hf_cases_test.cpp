// Tokenizer tests against Hugging Face tokenizers 0.23.2 on small synthetic tokenizer.json files:
// byte-level configurations (Split behaviours and inversion, Digits, WhitespaceSplit, ByteLevel
// with a prefix space and its own regex, NFC / NFD / Strip, ignore_merges) and sentencepiece-style
// ones (Prepend + Replace, Metaspace with prepend_scheme first / always, byte fallback, unk), each
// with added tokens that use lstrip / rstrip / single_word / normalized. The expected ids and texts
// were produced by HF tokenizers (its Node binding) from the same files; the vocabularies and
// merges come from a tiny BPE training run.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace hearth {
namespace {

// Byte-level vocabulary (GPT-2 byte characters) and merges.
const char* kByteVocab = R"json({"Ā":0,"ā":1,"Ă":2,"ă":3,"Ą":4,"ą":5,"Ć":6,"ć":7,"Ĉ":8,"ĉ":9,"Ċ":10,"ċ":11,
"Č":12,"č":13,"Ď":14,"ď":15,"Đ":16,"đ":17,"Ē":18,"ē":19,"Ĕ":20,"ĕ":21,"Ė":22,"ė":23,
"Ę":24,"ę":25,"Ě":26,"ě":27,"Ĝ":28,"ĝ":29,"Ğ":30,"ğ":31,"Ġ":32,"!":33,"\"":34,"#":35,
"$":36,"%":37,"&":38,"'":39,"(":40,")":41,"*":42,"+":43,",":44,"-":45,".":46,"/":47,
"0":48,"1":49,"2":50,"3":51,"4":52,"5":53,"6":54,"7":55,"8":56,"9":57,":":58,";":59,
"<":60,"=":61,">":62,"?":63,"@":64,"A":65,"B":66,"C":67,"D":68,"E":69,"F":70,"G":71,
"H":72,"I":73,"J":74,"K":75,"L":76,"M":77,"N":78,"O":79,"P":80,"Q":81,"R":82,"S":83,
"T":84,"U":85,"V":86,"W":87,"X":88,"Y":89,"Z":90,"[":91,"\\":92,"]":93,"^":94,"_":95,
"`":96,"a":97,"b":98,"c":99,"d":100,"e":101,"f":102,"g":103,"h":104,"i":105,"j":106,"k":107,
"l":108,"m":109,"n":110,"o":111,"p":112,"q":113,"r":114,"s":115,"t":116,"u":117,"v":118,"w":119,
"x":120,"y":121,"z":122,"{":123,"|":124,"}":125,"~":126,"ġ":127,"Ģ":128,"ģ":129,"Ĥ":130,"ĥ":131,
"Ħ":132,"ħ":133,"Ĩ":134,"ĩ":135,"Ī":136,"ī":137,"Ĭ":138,"ĭ":139,"Į":140,"į":141,"İ":142,"ı":143,
"Ĳ":144,"ĳ":145,"Ĵ":146,"ĵ":147,"Ķ":148,"ķ":149,"ĸ":150,"Ĺ":151,"ĺ":152,"Ļ":153,"ļ":154,"Ľ":155,
"ľ":156,"Ŀ":157,"ŀ":158,"Ł":159,"ł":160,"¡":161,"¢":162,"£":163,"¤":164,"¥":165,"¦":166,"§":167,
"¨":168,"©":169,"ª":170,"«":171,"¬":172,"Ń":173,"®":174,"¯":175,"°":176,"±":177,"²":178,"³":179,
"´":180,"µ":181,"¶":182,"·":183,"¸":184,"¹":185,"º":186,"»":187,"¼":188,"½":189,"¾":190,"¿":191,
"À":192,"Á":193,"Â":194,"Ã":195,"Ä":196,"Å":197,"Æ":198,"Ç":199,"È":200,"É":201,"Ê":202,"Ë":203,
"Ì":204,"Í":205,"Î":206,"Ï":207,"Ð":208,"Ñ":209,"Ò":210,"Ó":211,"Ô":212,"Õ":213,"Ö":214,"×":215,
"Ø":216,"Ù":217,"Ú":218,"Û":219,"Ü":220,"Ý":221,"Þ":222,"ß":223,"à":224,"á":225,"â":226,"ã":227,
"ä":228,"å":229,"æ":230,"ç":231,"è":232,"é":233,"ê":234,"ë":235,"ì":236,"í":237,"î":238,"ï":239,
"ð":240,"ñ":241,"ò":242,"ó":243,"ô":244,"õ":245,"ö":246,"÷":247,"ø":248,"ù":249,"ú":250,"û":251,
"ü":252,"ý":253,"þ":254,"ÿ":255,"he":256,"the":257,"Ġthe":258,"Ġi":259,"re":260,"ĠĠ":261,"Ġb":262,"Ġa":263,
"Ġin":264,"Ġo":265,"Ġd":266,"Ã©":267,"ll":268,"ĠĠĠ":269,"Ġthere":270,"Ġit":271,"Ġdo":272,"Ġbr":273,"Ġbro":274,"Ġan":275,
"Ġand":276,"Ġw":277,"Ġs":278,"Ġr":279,"è¯":280,"ä¸":281,"ãĥ":282,"ãĤ":283,"ve":284,"um":285,"ther":286,"or":287,
"llo":288,":Ċ":289,"):Ċ":290,"Ńæ":291,"Ńæĸ":292,"Ńæĸĩ":293,"Ńæĸĩå":294,"ŃæĸĩåĪ":295,"ŃæĸĩåĪĨ":296,"ŃæĸĩåĪĨè¯":297,"ŃæĸĩåĪĨè¯į":298,"ŃæĸĩåĪĨè¯įæ":299,
"ŃæĸĩåĪĨè¯įæµ":300,"ŃæĸĩåĪĨè¯įæµĭ":301,"ŃæĸĩåĪĨè¯įæµĭè¯":302,"ŃæĸĩåĪĨè¯įæµĭè¯ķ":303,"ŃæĸĩåĪĨè¯įæµĭè¯ķä":304,"ŃæĸĩåĪĨè¯įæµĭè¯ķä½":305,"ŃæĸĩåĪĨè¯įæµĭè¯ķä½ł":306,"ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå":307,"ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥":308,"ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥½":309,"ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥½ä¸":310,"ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥½ä¸ĸ":311,
"ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥½ä¸ĸç":312,"ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥½ä¸ĸçķ":313,"ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥½ä¸ĸçķĮ":314,"ŃãĤ":315,"ŃãĤ¹":316,"ŃãĤ¹ãĥ":317,"ŃãĤ¹ãĥĪ":318,"ŀã":319,"ŀãģ":320,"ŀãģ®":321,"ŀãģ®ãĥ":322,"ŀãģ®ãĥĨ":323,
"ŀãģ®ãĥĨãĤ":324,"ŀãģ®ãĥĨãĤŃãĤ¹ãĥĪ":325,"ľ¬":326,"ľ¬è":327,"ľ¬èª":328,"ľ¬èªŀãģ®ãĥĨãĤŃãĤ¹ãĥĪ":329,"Ĺ¥":330,"Ĺ¥æ":331,"Ĺ¥æľ¬èªŀãģ®ãĥĨãĤŃãĤ¹ãĥĪ":332,"Ġwor":333,"Ġworl":334,"Ġworld":335,
"Ġwe":336,"Ġwere":337,"Ġthey":338,"Ġsu":339,"Ġsure":340,"Ġsa":341,"Ġsay":342,"ĠrÃ©":343,"ĠrÃ©s":344,"ĠrÃ©sum":345,"ĠrÃ©sumÃ©":346,"Ġra":347,
"Ġran":348,"Ġrang":349,"Ġrange":350,"Ġove":351,"Ġover":352,"Ġother":353,"Ġon":354,"Ġis":355,"Ġisn":356,"Ġdon":357,"Ġdone":358,"Ġdog":359,
"Ġde":360,"Ġdef":361,"Ġbrow":362,"Ġbrown":363,"Ġbrother":364,"Ġbrothers":365,"Ġad":366,"Ġadd":367,"Ġæ":368,"ĠæĹ¥æľ¬èªŀãģ®ãĥĨãĤŃãĤ¹ãĥĪ":369,"Ġä¸":370,"Ġä¸ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥½ä¸ĸçķĮ":371,
"Ġre":372,"Ġret":373,"Ġretu":374,"Ġretur":375,"Ġreturn":376,"Ġq":377,"Ġqu":378,"Ġqui":379,"Ġquic":380,"Ġquick":381,"Ġp":382,"Ġpr":383,
"Ġpri":384,"Ġprin":385,"Ġprint":386,"Ġn":387,"Ġna":388,"ĠnaÃ":389,"ĠnaÃ¯":390,"ĠnaÃ¯ve":391,"Ġl":392,"Ġla":393,"Ġlaz":394,"Ġlazy":395})json";
const char* kByteMerges = R"json([["h","e"],["t","he"],["Ġ","the"],["Ġ","i"],["r","e"],["Ġ","Ġ"],["Ġ","b"],["Ġ","a"],["Ġi","n"],["Ġ","o"],
["Ġ","d"],["Ã","©"],["l","l"],["ĠĠ","Ġ"],["Ġthe","re"],["Ġi","t"],["Ġd","o"],["Ġb","r"],["Ġbr","o"],["Ġa","n"],
["Ġan","d"],["Ġ","w"],["Ġ","s"],["Ġ","r"],["è","¯"],["ä","¸"],["ã","ĥ"],["ã","Ĥ"],["v","e"],["u","m"],
["the","r"],["o","r"],["ll","o"],[":","Ċ"],[")",":Ċ"],["Ń","æ"],["Ńæ","ĸ"],["Ńæĸ","ĩ"],["Ńæĸĩ","å"],["Ńæĸĩå","Ī"],
["ŃæĸĩåĪ","Ĩ"],["ŃæĸĩåĪĨ","è¯"],["ŃæĸĩåĪĨè¯","į"],["ŃæĸĩåĪĨè¯į","æ"],["ŃæĸĩåĪĨè¯įæ","µ"],["ŃæĸĩåĪĨè¯įæµ","ĭ"],["ŃæĸĩåĪĨè¯įæµĭ","è¯"],["ŃæĸĩåĪĨè¯įæµĭè¯","ķ"],["ŃæĸĩåĪĨè¯įæµĭè¯ķ","ä"],["ŃæĸĩåĪĨè¯įæµĭè¯ķä","½"],
["ŃæĸĩåĪĨè¯įæµĭè¯ķä½","ł"],["ŃæĸĩåĪĨè¯įæµĭè¯ķä½ł","å"],["ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå","¥"],["ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥","½"],["ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥½","ä¸"],["ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥½ä¸","ĸ"],["ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥½ä¸ĸ","ç"],["ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥½ä¸ĸç","ķ"],["ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥½ä¸ĸçķ","Į"],["Ń","ãĤ"],
["ŃãĤ","¹"],["ŃãĤ¹","ãĥ"],["ŃãĤ¹ãĥ","Ī"],["ŀ","ã"],["ŀã","ģ"],["ŀãģ","®"],["ŀãģ®","ãĥ"],["ŀãģ®ãĥ","Ĩ"],["ŀãģ®ãĥĨ","ãĤ"],["ŀãģ®ãĥĨãĤ","ŃãĤ¹ãĥĪ"],
["ľ","¬"],["ľ¬","è"],["ľ¬è","ª"],["ľ¬èª","ŀãģ®ãĥĨãĤŃãĤ¹ãĥĪ"],["Ĺ","¥"],["Ĺ¥","æ"],["Ĺ¥æ","ľ¬èªŀãģ®ãĥĨãĤŃãĤ¹ãĥĪ"],["Ġw","or"],["Ġwor","l"],["Ġworl","d"],
["Ġw","e"],["Ġwe","re"],["Ġthe","y"],["Ġs","u"],["Ġsu","re"],["Ġs","a"],["Ġsa","y"],["Ġr","Ã©"],["ĠrÃ©","s"],["ĠrÃ©s","um"],
["ĠrÃ©sum","Ã©"],["Ġr","a"],["Ġra","n"],["Ġran","g"],["Ġrang","e"],["Ġo","ve"],["Ġove","r"],["Ġo","ther"],["Ġo","n"],["Ġi","s"],
["Ġis","n"],["Ġdo","n"],["Ġdon","e"],["Ġdo","g"],["Ġd","e"],["Ġde","f"],["Ġbro","w"],["Ġbrow","n"],["Ġbro","ther"],["Ġbrother","s"],
["Ġa","d"],["Ġad","d"],["Ġ","æ"],["Ġæ","Ĺ¥æľ¬èªŀãģ®ãĥĨãĤŃãĤ¹ãĥĪ"],["Ġ","ä¸"],["Ġä¸","ŃæĸĩåĪĨè¯įæµĭè¯ķä½łå¥½ä¸ĸçķĮ"],["Ġ","re"],["Ġre","t"],["Ġret","u"],["Ġretu","r"],
["Ġretur","n"],["Ġ","q"],["Ġq","u"],["Ġqu","i"],["Ġqui","c"],["Ġquic","k"],["Ġ","p"],["Ġp","r"],["Ġpr","i"],["Ġpri","n"],
["Ġprin","t"],["Ġ","n"],["Ġn","a"],["Ġna","Ã"],["ĠnaÃ","¯"],["ĠnaÃ¯","ve"],["Ġ","l"],["Ġl","a"],["Ġla","z"],["Ġlaz","y"]])json";
// Sentencepiece-style vocabulary (<unk>, <s>, </s>, <0xNN>, characters, merges).
const char* kSpVocab = R"json({"<unk>":0,"<s>":1,"</s>":2,"<0x00>":3,"<0x01>":4,"<0x02>":5,"<0x03>":6,"<0x04>":7,"<0x05>":8,"<0x06>":9,"<0x07>":10,"<0x08>":11,
"<0x09>":12,"<0x0A>":13,"<0x0B>":14,"<0x0C>":15,"<0x0D>":16,"<0x0E>":17,"<0x0F>":18,"<0x10>":19,"<0x11>":20,"<0x12>":21,"<0x13>":22,"<0x14>":23,
"<0x15>":24,"<0x16>":25,"<0x17>":26,"<0x18>":27,"<0x19>":28,"<0x1A>":29,"<0x1B>":30,"<0x1C>":31,"<0x1D>":32,"<0x1E>":33,"<0x1F>":34,"<0x20>":35,
"<0x21>":36,"<0x22>":37,"<0x23>":38,"<0x24>":39,"<0x25>":40,"<0x26>":41,"<0x27>":42,"<0x28>":43,"<0x29>":44,"<0x2A>":45,"<0x2B>":46,"<0x2C>":47,
"<0x2D>":48,"<0x2E>":49,"<0x2F>":50,"<0x30>":51,"<0x31>":52,"<0x32>":53,"<0x33>":54,"<0x34>":55,"<0x35>":56,"<0x36>":57,"<0x37>":58,"<0x38>":59,
"<0x39>":60,"<0x3A>":61,"<0x3B>":62,"<0x3C>":63,"<0x3D>":64,"<0x3E>":65,"<0x3F>":66,"<0x40>":67,"<0x41>":68,"<0x42>":69,"<0x43>":70,"<0x44>":71,
"<0x45>":72,"<0x46>":73,"<0x47>":74,"<0x48>":75,"<0x49>":76,"<0x4A>":77,"<0x4B>":78,"<0x4C>":79,"<0x4D>":80,"<0x4E>":81,"<0x4F>":82,"<0x50>":83,
"<0x51>":84,"<0x52>":85,"<0x53>":86,"<0x54>":87,"<0x55>":88,"<0x56>":89,"<0x57>":90,"<0x58>":91,"<0x59>":92,"<0x5A>":93,"<0x5B>":94,"<0x5C>":95,
"<0x5D>":96,"<0x5E>":97,"<0x5F>":98,"<0x60>":99,"<0x61>":100,"<0x62>":101,"<0x63>":102,"<0x64>":103,"<0x65>":104,"<0x66>":105,"<0x67>":106,"<0x68>":107,
"<0x69>":108,"<0x6A>":109,"<0x6B>":110,"<0x6C>":111,"<0x6D>":112,"<0x6E>":113,"<0x6F>":114,"<0x70>":115,"<0x71>":116,"<0x72>":117,"<0x73>":118,"<0x74>":119,
"<0x75>":120,"<0x76>":121,"<0x77>":122,"<0x78>":123,"<0x79>":124,"<0x7A>":125,"<0x7B>":126,"<0x7C>":127,"<0x7D>":128,"<0x7E>":129,"<0x7F>":130,"<0x80>":131,
"<0x81>":132,"<0x82>":133,"<0x83>":134,"<0x84>":135,"<0x85>":136,"<0x86>":137,"<0x87>":138,"<0x88>":139,"<0x89>":140,"<0x8A>":141,"<0x8B>":142,"<0x8C>":143,
"<0x8D>":144,"<0x8E>":145,"<0x8F>":146,"<0x90>":147,"<0x91>":148,"<0x92>":149,"<0x93>":150,"<0x94>":151,"<0x95>":152,"<0x96>":153,"<0x97>":154,"<0x98>":155,
"<0x99>":156,"<0x9A>":157,"<0x9B>":158,"<0x9C>":159,"<0x9D>":160,"<0x9E>":161,"<0x9F>":162,"<0xA0>":163,"<0xA1>":164,"<0xA2>":165,"<0xA3>":166,"<0xA4>":167,
"<0xA5>":168,"<0xA6>":169,"<0xA7>":170,"<0xA8>":171,"<0xA9>":172,"<0xAA>":173,"<0xAB>":174,"<0xAC>":175,"<0xAD>":176,"<0xAE>":177,"<0xAF>":178,"<0xB0>":179,
"<0xB1>":180,"<0xB2>":181,"<0xB3>":182,"<0xB4>":183,"<0xB5>":184,"<0xB6>":185,"<0xB7>":186,"<0xB8>":187,"<0xB9>":188,"<0xBA>":189,"<0xBB>":190,"<0xBC>":191,
"<0xBD>":192,"<0xBE>":193,"<0xBF>":194,"<0xC0>":195,"<0xC1>":196,"<0xC2>":197,"<0xC3>":198,"<0xC4>":199,"<0xC5>":200,"<0xC6>":201,"<0xC7>":202,"<0xC8>":203,
"<0xC9>":204,"<0xCA>":205,"<0xCB>":206,"<0xCC>":207,"<0xCD>":208,"<0xCE>":209,"<0xCF>":210,"<0xD0>":211,"<0xD1>":212,"<0xD2>":213,"<0xD3>":214,"<0xD4>":215,
"<0xD5>":216,"<0xD6>":217,"<0xD7>":218,"<0xD8>":219,"<0xD9>":220,"<0xDA>":221,"<0xDB>":222,"<0xDC>":223,"<0xDD>":224,"<0xDE>":225,"<0xDF>":226,"<0xE0>":227,
"<0xE1>":228,"<0xE2>":229,"<0xE3>":230,"<0xE4>":231,"<0xE5>":232,"<0xE6>":233,"<0xE7>":234,"<0xE8>":235,"<0xE9>":236,"<0xEA>":237,"<0xEB>":238,"<0xEC>":239,
"<0xED>":240,"<0xEE>":241,"<0xEF>":242,"<0xF0>":243,"<0xF1>":244,"<0xF2>":245,"<0xF3>":246,"<0xF4>":247,"<0xF5>":248,"<0xF6>":249,"<0xF7>":250,"<0xF8>":251,
"<0xF9>":252,"<0xFA>":253,"<0xFB>":254,"<0xFC>":255,"<0xFD>":256,"<0xFE>":257,"<0xFF>":258,"▁":259,"a":260,"b":261,"c":262,"d":263,
"e":264,"f":265,"g":266,"h":267,"i":268,"j":269,"k":270,"l":271,"m":272,"n":273,"o":274,"p":275,
"q":276,"r":277,"s":278,"t":279,"u":280,"v":281,"w":282,"x":283,"y":284,"z":285,"A":286,"B":287,
"C":288,"D":289,"E":290,"F":291,"G":292,"H":293,"I":294,"J":295,"K":296,"L":297,"M":298,"N":299,
"O":300,"P":301,"Q":302,"R":303,"S":304,"T":305,"U":306,"V":307,"W":308,"X":309,"Y":310,"Z":311,
"0":312,"1":313,"2":314,"3":315,"4":316,"5":317,"6":318,"7":319,"8":320,"9":321,".":322,",":323,
"!":324,"?":325,"'":326,":":327,"(":328,")":329,"+":330,"=":331,"中":332,"文":333,"你":334,"好":335,
"he":336,"the":337,"▁the":338,"▁i":339,"re":340,"▁a":341,"▁in":342,"▁▁":343,"▁o":344,"▁d":345,"▁there":346,"▁it":347,
"▁do":348,"▁an":349,"▁and":350,"▁w":351,"▁s":352,"▁b":353,"▁br":354,"▁bro":355,"ther":356,"ll":357,"▁▁▁▁":358,"▁▁▁▁re":359,
"▁▁▁▁ret":360,"▁▁▁▁retu":361,"▁▁▁▁retur":362,"▁▁▁▁return":363,"▁wo":364,"▁wor":365,"▁worl":366,"▁world":367,"▁world!":368,"▁we":369,"▁were":370,"▁there.":371,
"▁there,":372,"▁they":373,"▁they'":374,"▁they'll":375,"▁su":376,"▁sure":377,"▁sa":378,"▁say":379,"▁ov":380,"▁ove":381,"▁over":382,"▁other":383,
"▁on":384,"▁it?":385,"▁it'":386,"▁it's":387,"▁is":388,"▁isn":389,"▁isn'":390,"▁isn't":391,"▁don":392,"▁done":393,"▁done,":394,"▁dog":395,
"▁dog.":396,"▁de":397,"▁def":398,"▁brow":399,"▁brown":400,"▁brother":401,"▁brothers":402,"▁ad":403,"▁add":404,"▁add(":405,"▁add(a":406,"▁add(a,":407,
"▁q":408,"▁qu":409,"▁qui":410,"▁quic":411,"▁quick":412,"▁l":413,"▁la":414,"▁laz":415,"▁lazy":416,"▁j":417,"▁ju":418,"▁jum":419,
"▁jump":420,"▁jumps":421,"▁he":422,"▁hell":423,"▁hello":424,"▁f":425,"▁fo":426,"▁fox":427,"▁T":428,"▁The":429,"▁I":430,"▁I'":431,
"▁I'm":432,"▁3":433,"▁3.":434,"▁3.1":435,"▁3.14":436,"▁1":437,"▁12":438,"▁123":439,"▁1234":440,"▁12345":441,"▁123456":442,"▁1234567":443,
"▁12345678":444,"▁123456789":445,"▁1234567890":446,"▁+":447})json";
const char* kSpMerges = R"json([["h","e"],["t","he"],["▁","the"],["▁","i"],["r","e"],["▁","a"],["▁i","n"],["▁","▁"],["▁","o"],["▁","d"],
["▁the","re"],["▁i","t"],["▁d","o"],["▁a","n"],["▁an","d"],["▁","w"],["▁","s"],["▁","b"],["▁b","r"],["▁br","o"],
["the","r"],["l","l"],["▁▁","▁▁"],["▁▁▁▁","re"],["▁▁▁▁re","t"],["▁▁▁▁ret","u"],["▁▁▁▁retu","r"],["▁▁▁▁retur","n"],["▁w","o"],["▁wo","r"],
["▁wor","l"],["▁worl","d"],["▁world","!"],["▁w","e"],["▁we","re"],["▁there","."],["▁there",","],["▁the","y"],["▁they","'"],["▁they'","ll"],
["▁s","u"],["▁su","re"],["▁s","a"],["▁sa","y"],["▁o","v"],["▁ov","e"],["▁ove","r"],["▁o","ther"],["▁o","n"],["▁it","?"],
["▁it","'"],["▁it'","s"],["▁i","s"],["▁is","n"],["▁isn","'"],["▁isn'","t"],["▁do","n"],["▁don","e"],["▁done",","],["▁do","g"],
["▁dog","."],["▁d","e"],["▁de","f"],["▁bro","w"],["▁brow","n"],["▁bro","ther"],["▁brother","s"],["▁a","d"],["▁ad","d"],["▁add","("],
["▁add(","a"],["▁add(a",","],["▁","q"],["▁q","u"],["▁qu","i"],["▁qui","c"],["▁quic","k"],["▁","l"],["▁l","a"],["▁la","z"],
["▁laz","y"],["▁","j"],["▁j","u"],["▁ju","m"],["▁jum","p"],["▁jump","s"],["▁","he"],["▁he","ll"],["▁hell","o"],["▁","f"],
["▁f","o"],["▁fo","x"],["▁","T"],["▁T","he"],["▁","I"],["▁I","'"],["▁I'","m"],["▁","3"],["▁3","."],["▁3.","1"],
["▁3.1","4"],["▁","1"],["▁1","2"],["▁12","3"],["▁123","4"],["▁1234","5"],["▁12345","6"],["▁123456","7"],["▁1234567","8"],["▁12345678","9"],
["▁123456789","0"],["▁","+"]])json";

struct Config {
  const char* name;
  bool sentencepiece;
  const char* normalizer;
  const char* pre_tokenizer;
  const char* decoder;
  const char* added_tokens;
  const char* model_options;  // the BPE fields other than vocab and merges
};

const Config kConfigs[] = {
    {"qwen_style", false,
     R"json({"type":"NFC"})json",
     R"json({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]})json",
     R"json({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true})json",
     R"json([{"id":396,"content":"<|im_start|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":397,"content":"<|im_end|>","single_word":false,"lstrip":false,"rstrip":true,"normalized":false,"special":true},{"id":398,"content":"<think>","single_word":false,"lstrip":true,"rstrip":true,"normalized":false,"special":false},{"id":399,"content":"Hello","single_word":true,"lstrip":false,"rstrip":false,"normalized":true,"special":false},{"id":400,"content":"[MASK]","single_word":false,"lstrip":true,"rstrip":false,"normalized":false,"special":true},{"id":401,"content":"ab","single_word":true,"lstrip":false,"rstrip":false,"normalized":false,"special":false},{"id":402,"content":"é","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":false}])json",
     R"json("type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":false)json"},
    {"gpt2_style", false,
     R"json(null)json",
     R"json({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true})json",
     R"json({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true})json",
     R"json([{"id":396,"content":"<|im_start|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":397,"content":"<|im_end|>","single_word":false,"lstrip":false,"rstrip":true,"normalized":false,"special":true},{"id":398,"content":"<think>","single_word":false,"lstrip":true,"rstrip":true,"normalized":false,"special":false},{"id":399,"content":"Hello","single_word":true,"lstrip":false,"rstrip":false,"normalized":true,"special":false},{"id":400,"content":"[MASK]","single_word":false,"lstrip":true,"rstrip":false,"normalized":false,"special":true},{"id":401,"content":"ab","single_word":true,"lstrip":false,"rstrip":false,"normalized":false,"special":false},{"id":402,"content":"é","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":false}])json",
     R"json("type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":true)json"},
    {"digits_merged_prev", false,
     R"json(null)json",
     R"json({"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},{"type":"Split","pattern":{"Regex":"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"MergedWithPrevious","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]})json",
     R"json({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true})json",
     R"json([{"id":396,"content":"<|im_start|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":397,"content":"<|im_end|>","single_word":false,"lstrip":false,"rstrip":true,"normalized":false,"special":true},{"id":398,"content":"<think>","single_word":false,"lstrip":true,"rstrip":true,"normalized":false,"special":false},{"id":399,"content":"Hello","single_word":true,"lstrip":false,"rstrip":false,"normalized":true,"special":false},{"id":400,"content":"[MASK]","single_word":false,"lstrip":true,"rstrip":false,"normalized":false,"special":true},{"id":401,"content":"ab","single_word":true,"lstrip":false,"rstrip":false,"normalized":false,"special":false},{"id":402,"content":"é","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":false}])json",
     R"json("type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":false)json"},
    {"whitespace_split_nfd", false,
     R"json({"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"Strip","strip_left":true,"strip_right":true}]})json",
     R"json({"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Digits","individual_digits":false},{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":false}]})json",
     R"json({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true})json",
     R"json([{"id":396,"content":"<|im_start|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":397,"content":"<|im_end|>","single_word":false,"lstrip":false,"rstrip":true,"normalized":false,"special":true},{"id":398,"content":"<think>","single_word":false,"lstrip":true,"rstrip":true,"normalized":false,"special":false},{"id":399,"content":"Hello","single_word":true,"lstrip":false,"rstrip":false,"normalized":true,"special":false},{"id":400,"content":"[MASK]","single_word":false,"lstrip":true,"rstrip":false,"normalized":false,"special":true},{"id":401,"content":"ab","single_word":true,"lstrip":false,"rstrip":false,"normalized":false,"special":false},{"id":402,"content":"é","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":false}])json",
     R"json("type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":false)json"},
    {"removed_inverted_contiguous", false,
     R"json(null)json",
     R"json({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Removed","invert":true},{"type":"Split","pattern":{"Regex":"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"},"behavior":"Contiguous","invert":false},{"type":"Split","pattern":{"String":"e"},"behavior":"MergedWithNext","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]})json",
     R"json({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true})json",
     R"json([{"id":396,"content":"<|im_start|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":397,"content":"<|im_end|>","single_word":false,"lstrip":false,"rstrip":true,"normalized":false,"special":true},{"id":398,"content":"<think>","single_word":false,"lstrip":true,"rstrip":true,"normalized":false,"special":false},{"id":399,"content":"Hello","single_word":true,"lstrip":false,"rstrip":false,"normalized":true,"special":false},{"id":400,"content":"[MASK]","single_word":false,"lstrip":true,"rstrip":false,"normalized":false,"special":true},{"id":401,"content":"ab","single_word":true,"lstrip":false,"rstrip":false,"normalized":false,"special":false},{"id":402,"content":"é","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":false}])json",
     R"json("type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":false)json"},
    {"sp_legacy", true,
     R"json({"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]})json",
     R"json(null)json",
     R"json({"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]})json",
     R"json([{"id":0,"content":"<unk>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":1,"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":2,"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":448,"content":"<|im_start|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":449,"content":"Hello World","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":false}])json",
     R"json("type":"BPE","dropout":null,"unk_token":"<unk>","continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":true,"byte_fallback":true,"ignore_merges":false)json"},
    {"sp_metaspace_first", true,
     R"json(null)json",
     R"json({"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false})json",
     R"json({"type":"Sequence","decoders":[{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false},{"type":"ByteFallback"},{"type":"Fuse"}]})json",
     R"json([{"id":0,"content":"<unk>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":1,"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":2,"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":448,"content":"<|im_start|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":449,"content":"Hello World","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":false}])json",
     R"json("type":"BPE","dropout":null,"unk_token":"<unk>","continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":true,"byte_fallback":true,"ignore_merges":false)json"},
    {"sp_unk_split", true,
     R"json(null)json",
     R"json({"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true})json",
     R"json({"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true})json",
     R"json([{"id":0,"content":"<unk>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":1,"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":2,"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":448,"content":"<|im_start|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},{"id":449,"content":"Hello World","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":false}])json",
     R"json("type":"BPE","dropout":null,"unk_token":"<unk>","continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":false)json"},
};

const char* const kTexts[] = {
    "Hello world! I'm sure they'LL say it's DON'T.",
    "  leading and trailing  ",
    "def add(a, b):\n    return a + b\n",
    "line1\r\nline2\n\n\n  end",
    "1234567890 3.14159 -42",
    "na\303\257ve cafe\314\201 Z\303\274rich",
    "\344\270\255\346\226\207\345\210\206\350\257\215\346\265\213\350\257\225\357\274\214\344\275\240\345\245\275\344\270\226\347\225\214\343\200\202",
    "emoji \360\237\221\215\360\237\217\275 and \360\237\246\231",
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    "text <|im_end|>   after",
    "a  <think>  b<think>c",
    "Hello there, Hello! HelloX xHello",
    "cab ab ab. abc",
    "x   [MASK] y[MASK]",
    "\303\251 e\314\201 \303\251\303\251",
    "Hello World and hello world",
    "\t\ttabs\tand\302\240nbsp\343\200\200ideographic",
    "'s 'S '\305\277 'll",
    "",
    "<s>bos</s> <unk>",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "                                                                      x",
};

struct Expected {
  std::vector<int32_t> ids;
  const char* decoded;       // nullptr: same as the text
  const char* decoded_skip;  // decode(ids, skip_special = true); nullptr: same as decoded
};

// kExpected[config][text]
const std::vector<std::vector<Expected>> kExpected = {
    {  // qwen_style
        {{399, 335, 33, 32, 73, 39, 109, 340, 338, 39, 76, 76, 342, 271, 39, 115, 32, 68, 79, 78, 39, 84, 46}, nullptr, nullptr},
        {{32, 392, 101, 97, 100, 105, 110, 103, 276, 32, 116, 114, 97, 105, 108, 105, 110, 103, 261}, nullptr, nullptr},
        {{100, 101, 102, 367, 40, 97, 44, 262, 290, 269, 376, 263, 32, 43, 262, 10}, nullptr, nullptr},
        {{108, 105, 110, 101, 49, 13, 10, 108, 105, 110, 101, 50, 10, 10, 10, 32, 32, 101, 110, 100}, nullptr, nullptr},
        {{49, 50, 51, 52, 53, 54, 55, 56, 57, 48, 32, 51, 46, 49, 52, 49, 53, 57, 32, 45, 52, 50}, nullptr, nullptr},
        {{110, 97, 195, 175, 284, 32, 99, 97, 102, 233, 32, 90, 195, 188, 114, 105, 99, 104}, "na\303\257ve caf\357\277\275 Z\303\274rich", nullptr},
        {{281, 303, 239, 188, 140, 228, 189, 160, 229, 165, 189, 281, 150, 231, 149, 140, 227, 128, 130}, nullptr, nullptr},
        {{101, 109, 111, 106, 105, 32, 240, 159, 145, 141, 240, 159, 143, 189, 276, 32, 240, 159, 166, 153}, nullptr, nullptr},
        {{396, 117, 115, 101, 114, 10, 104, 105, 397, 396, 97, 115, 115, 105, 115, 116, 97, 110, 116, 10}, "<|im_start|>user\nhi<|im_end|><|im_start|>assistant\n", "user\nhiassistant\n"},
        {{116, 101, 120, 116, 32, 397, 97, 102, 116, 101, 114}, "text <|im_end|>after", "text after"},
        {{97, 398, 98, 398, 99}, "a<think>b<think>c", nullptr},
        {{399, 270, 44, 32, 399, 33, 32, 72, 101, 288, 88, 32, 120, 72, 101, 288}, nullptr, nullptr},
        {{99, 97, 98, 32, 401, 32, 401, 46, 263, 98, 99}, nullptr, nullptr},
        {{120, 400, 32, 121, 400}, "x[MASK] y[MASK]", "x y"},
        {{233, 32, 233, 32, 233, 233}, "\357\277\275 \357\277\275 \357\277\275\357\277\275", nullptr},
        {{399, 32, 87, 287, 108, 100, 276, 32, 256, 288, 335}, nullptr, nullptr},
        {{9, 9, 116, 97, 98, 115, 9, 97, 110, 100, 194, 160, 110, 98, 115, 112, 227, 128, 128, 105, 100, 101, 111, 103, 114, 97, 112, 104, 105, 99}, nullptr, nullptr},
        {{39, 115, 32, 39, 83, 32, 39, 197, 191, 32, 39, 268}, nullptr, nullptr},
        {{}, nullptr, nullptr},
        {{60, 115, 62, 98, 111, 115, 60, 47, 115, 62, 32, 60, 117, 110, 107, 62}, nullptr, nullptr},
        {{97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97}, nullptr, nullptr},
        {{261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 269, 32, 120}, nullptr, nullptr},
    },
    {  // gpt2_style
        {{399, 335, 33, 32, 73, 39, 109, 340, 338, 39, 76, 76, 342, 271, 39, 115, 32, 68, 79, 78, 39, 84, 46}, nullptr, nullptr},
        {{32, 392, 101, 97, 100, 105, 110, 103, 276, 32, 116, 114, 97, 105, 108, 105, 110, 103, 261}, nullptr, nullptr},
        {{361, 367, 40, 97, 44, 262, 41, 58, 10, 269, 376, 263, 32, 43, 262, 10}, " def add(a, b):\n    return a + b\n", nullptr},
        {{392, 105, 110, 101, 49, 13, 10, 108, 105, 110, 101, 50, 10, 10, 10, 32, 32, 101, 110, 100}, " line1\r\nline2\n\n\n  end", nullptr},
        {{32, 49, 50, 51, 52, 53, 54, 55, 56, 57, 48, 32, 51, 46, 49, 52, 49, 53, 57, 32, 45, 52, 50}, " 1234567890 3.14159 -42", nullptr},
        {{391, 32, 99, 97, 102, 101, 204, 129, 32, 90, 195, 188, 114, 105, 99, 104}, " na\303\257ve cafe\314\201 Z\303\274rich", nullptr},
        {{370, 303, 239, 188, 140, 228, 189, 160, 229, 165, 189, 281, 150, 231, 149, 140, 227, 128, 130}, " \344\270\255\346\226\207\345\210\206\350\257\215\346\265\213\350\257\225\357\274\214\344\275\240\345\245\275\344\270\226\347\225\214\343\200\202", nullptr},
        {{32, 101, 109, 111, 106, 105, 32, 240, 159, 145, 141, 240, 159, 143, 189, 276, 32, 240, 159, 166, 153}, " emoji \360\237\221\215\360\237\217\275 and \360\237\246\231", nullptr},
        {{396, 32, 117, 115, 101, 114, 10, 104, 105, 397, 396, 263, 115, 115, 105, 115, 116, 97, 110, 116, 10}, "<|im_start|> user\nhi<|im_end|><|im_start|> assistant\n", " user\nhi assistant\n"},
        {{32, 116, 101, 120, 116, 32, 397, 263, 102, 116, 101, 114}, " text <|im_end|> after", " text  after"},
        {{263, 398, 262, 398, 32, 99}, " a<think> b<think> c", nullptr},
        {{399, 270, 44, 32, 399, 32, 33, 32, 72, 101, 288, 88, 32, 120, 72, 101, 288}, "Hello there, Hello ! HelloX xHello", nullptr},
        {{32, 99, 97, 98, 32, 401, 32, 401, 32, 46, 263, 98, 99}, " cab ab ab . abc", nullptr},
        {{32, 120, 400, 32, 121, 400}, " x[MASK] y[MASK]", " x y"},
        {{233, 32, 101, 204, 129, 32, 233, 233}, "\357\277\275 e\314\201 \357\277\275\357\277\275", nullptr},
        {{399, 32, 87, 287, 108, 100, 276, 32, 256, 288, 335}, nullptr, nullptr},
        {{32, 9, 9, 116, 97, 98, 115, 9, 97, 110, 100, 194, 160, 110, 98, 115, 112, 227, 128, 128, 105, 100, 101, 111, 103, 114, 97, 112, 104, 105, 99}, " \t\ttabs\tand\302\240nbsp\343\200\200ideographic", nullptr},
        {{32, 39, 115, 32, 39, 83, 32, 39, 197, 191, 32, 39, 268}, " 's 'S '\305\277 'll", nullptr},
        {{}, nullptr, nullptr},
        {{32, 60, 115, 62, 98, 111, 115, 60, 47, 115, 62, 32, 60, 117, 110, 107, 62}, " <s>bos</s> <unk>", nullptr},
        {{263, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97}, " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", nullptr},
        {{261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 269, 32, 120}, nullptr, nullptr},
    },
    {  // digits_merged_prev
        {{399, 335, 33, 32, 73, 39, 109, 340, 338, 39, 76, 76, 342, 271, 39, 115, 32, 68, 79, 78, 39, 84, 46}, nullptr, nullptr},
        {{32, 392, 101, 97, 100, 105, 110, 103, 276, 32, 116, 114, 97, 105, 108, 105, 110, 103, 261}, nullptr, nullptr},
        {{100, 101, 102, 367, 40, 97, 44, 262, 290, 269, 376, 263, 32, 43, 262, 10}, nullptr, nullptr},
        {{108, 105, 110, 101, 49, 13, 10, 108, 105, 110, 101, 50, 10, 10, 10, 32, 32, 101, 110, 100}, nullptr, nullptr},
        {{49, 50, 51, 52, 53, 54, 55, 56, 57, 48, 32, 51, 46, 49, 52, 49, 53, 57, 32, 45, 52, 50}, nullptr, nullptr},
        {{110, 97, 195, 175, 284, 32, 99, 97, 102, 101, 204, 129, 32, 90, 195, 188, 114, 105, 99, 104}, nullptr, nullptr},
        {{281, 303, 239, 188, 140, 228, 189, 160, 229, 165, 189, 281, 150, 231, 149, 140, 227, 128, 130}, nullptr, nullptr},
        {{101, 109, 111, 106, 105, 32, 240, 159, 145, 141, 240, 159, 143, 189, 276, 32, 240, 159, 166, 153}, nullptr, nullptr},
        {{396, 117, 115, 101, 114, 10, 104, 105, 397, 396, 97, 115, 115, 105, 115, 116, 97, 110, 116, 10}, "<|im_start|>user\nhi<|im_end|><|im_start|>assistant\n", "user\nhiassistant\n"},
        {{116, 101, 120, 116, 32, 397, 97, 102, 116, 101, 114}, "text <|im_end|>after", "text after"},
        {{97, 398, 98, 398, 99}, "a<think>b<think>c", nullptr},
        {{399, 270, 44, 32, 399, 33, 32, 72, 101, 288, 88, 32, 120, 72, 101, 288}, nullptr, nullptr},
        {{99, 97, 98, 32, 401, 32, 401, 46, 263, 98, 99}, nullptr, nullptr},
        {{120, 400, 32, 121, 400}, "x[MASK] y[MASK]", "x y"},
        {{233, 32, 101, 204, 129, 32, 233, 233}, "\357\277\275 e\314\201 \357\277\275\357\277\275", nullptr},
        {{399, 32, 87, 287, 108, 100, 276, 32, 256, 288, 335}, nullptr, nullptr},
        {{9, 9, 116, 97, 98, 115, 9, 97, 110, 100, 194, 160, 110, 98, 115, 112, 227, 128, 128, 105, 100, 101, 111, 103, 114, 97, 112, 104, 105, 99}, nullptr, nullptr},
        {{39, 115, 32, 39, 83, 32, 39, 197, 191, 32, 39, 268}, nullptr, nullptr},
        {{}, nullptr, nullptr},
        {{60, 115, 62, 98, 111, 115, 60, 47, 115, 62, 32, 60, 117, 110, 107, 62}, nullptr, nullptr},
        {{97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97}, nullptr, nullptr},
        {{261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 269, 32, 120}, nullptr, nullptr},
    },
    {  // whitespace_split_nfd
        {{399, 335, 33, 32, 73, 39, 109, 340, 338, 39, 76, 76, 342, 271, 39, 115, 32, 68, 79, 78, 39, 84, 46}, nullptr, nullptr},
        {{392, 101, 97, 100, 105, 110, 103, 276, 32, 116, 114, 97, 105, 108, 105, 110, 103}, " leading and trailing", nullptr},
        {{361, 367, 40, 97, 44, 262, 41, 58, 376, 263, 32, 43, 262}, " def add(a, b): return a + b", nullptr},
        {{392, 105, 110, 101, 32, 49, 392, 105, 110, 101, 32, 50, 32, 101, 110, 100}, " line 1 line 2 end", nullptr},
        {{32, 49, 50, 51, 52, 53, 54, 55, 56, 57, 48, 32, 51, 32, 46, 32, 49, 52, 49, 53, 57, 32, 45, 32, 52, 50}, " 1234567890 3 . 14159 - 42", nullptr},
        {{388, 105, 204, 136, 284, 32, 99, 97, 102, 233, 32, 90, 117, 204, 136, 114, 105, 99, 104}, " nai\314\210ve cafe\314\201 Zu\314\210rich", nullptr},
        {{370, 303, 239, 188, 140, 228, 189, 160, 229, 165, 189, 281, 150, 231, 149, 140, 227, 128, 130}, " \344\270\255\346\226\207\345\210\206\350\257\215\346\265\213\350\257\225\357\274\214\344\275\240\345\245\275\344\270\226\347\225\214\343\200\202", nullptr},
        {{32, 101, 109, 111, 106, 105, 32, 240, 159, 145, 141, 240, 159, 143, 189, 276, 32, 240, 159, 166, 153}, " emoji \360\237\221\215\360\237\217\275 and \360\237\246\231", nullptr},
        {{396, 32, 117, 115, 101, 114, 32, 104, 105, 397, 396, 263, 115, 115, 105, 115, 116, 97, 110, 116}, "<|im_start|> user hi<|im_end|><|im_start|> assistant", " user hi assistant"},
        {{32, 116, 101, 120, 116, 397, 263, 102, 116, 101, 114}, " text<|im_end|> after", " text after"},
        {{263, 398, 262, 398, 32, 99}, " a<think> b<think> c", nullptr},
        {{399, 270, 44, 399, 32, 33, 32, 72, 101, 288, 88, 32, 120, 72, 101, 288}, "Hello there,Hello ! HelloX xHello", nullptr},
        {{32, 99, 97, 98, 401, 401, 32, 46, 263, 98, 99}, " cababab . abc", nullptr},
        {{32, 120, 400, 32, 121, 400}, " x[MASK] y[MASK]", " x y"},
        {{233, 233, 233, 233}, "e\314\201e\314\201e\314\201e\314\201", nullptr},
        {{399, 32, 87, 287, 108, 100, 276, 32, 256, 288, 335}, nullptr, nullptr},
        {{32, 116, 97, 98, 115, 276, 387, 98, 115, 112, 259, 100, 101, 111, 103, 114, 97, 112, 104, 105, 99}, " tabs and nbsp ideographic", nullptr},
        {{32, 39, 115, 32, 39, 83, 32, 39, 197, 191, 32, 39, 268}, " 's 'S '\305\277 'll", nullptr},
        {{}, nullptr, nullptr},
        {{32, 60, 115, 62, 98, 111, 115, 60, 47, 115, 62, 32, 60, 117, 110, 107, 62}, " <s>bos</s> <unk>", nullptr},
        {{263, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97}, " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", nullptr},
        {{32, 120}, " x", nullptr},
    },
    {  // removed_inverted_contiguous
        {{399, 335, 33, 32, 73, 39, 109, 339, 114, 101, 32, 116, 104, 101, 121, 39, 76, 76, 342, 271, 39, 115, 32, 68, 79, 78, 39, 84, 46}, nullptr, nullptr},
        {{32, 392, 101, 97, 100, 105, 110, 103, 276, 32, 116, 114, 97, 105, 108, 105, 110, 103, 261}, nullptr, nullptr},
        {{100, 101, 102, 367, 40, 97, 44, 262, 290, 269, 279, 101, 116, 117, 114, 110, 263, 32, 43, 262, 10}, nullptr, nullptr},
        {{108, 105, 110, 101, 49, 13, 10, 108, 105, 110, 101, 50, 10, 10, 10, 32, 32, 101, 110, 100}, nullptr, nullptr},
        {{49, 50, 51, 52, 53, 54, 55, 56, 57, 48, 32, 51, 46, 49, 52, 49, 53, 57, 32, 45, 52, 50}, nullptr, nullptr},
        {{110, 97, 195, 175, 118, 101, 32, 99, 97, 102, 101, 204, 129, 32, 90, 195, 188, 114, 105, 99, 104}, nullptr, nullptr},
        {{281, 303, 239, 188, 140, 228, 189, 160, 229, 165, 189, 281, 150, 231, 149, 140, 227, 128, 130}, nullptr, nullptr},
        {{101, 109, 111, 106, 105, 32, 240, 159, 145, 141, 240, 159, 143, 189, 276, 32, 240, 159, 166, 153}, nullptr, nullptr},
        {{396, 117, 115, 101, 114, 10, 104, 105, 397, 396, 97, 115, 115, 105, 115, 116, 97, 110, 116, 10}, "<|im_start|>user\nhi<|im_end|><|im_start|>assistant\n", "user\nhiassistant\n"},
        {{116, 101, 120, 116, 32, 397, 97, 102, 116, 101, 114}, "text <|im_end|>after", "text after"},
        {{97, 398, 98, 398, 99}, "a<think>b<think>c", nullptr},
        {{399, 32, 116, 104, 101, 114, 101, 44, 32, 399, 33, 32, 72, 101, 288, 88, 32, 120, 72, 101, 288}, nullptr, nullptr},
        {{99, 97, 98, 32, 401, 32, 401, 46, 263, 98, 99}, nullptr, nullptr},
        {{120, 400, 32, 121, 400}, "x[MASK] y[MASK]", "x y"},
        {{233, 32, 101, 204, 129, 32, 233, 233}, "\357\277\275 e\314\201 \357\277\275\357\277\275", nullptr},
        {{399, 32, 87, 287, 108, 100, 276, 32, 104, 101, 288, 335}, nullptr, nullptr},
        {{9, 9, 116, 97, 98, 115, 9, 97, 110, 100, 194, 160, 110, 98, 115, 112, 227, 128, 128, 105, 100, 101, 111, 103, 114, 97, 112, 104, 105, 99}, nullptr, nullptr},
        {{39, 115, 32, 39, 83, 32, 39, 197, 191, 32, 39, 268}, nullptr, nullptr},
        {{}, nullptr, nullptr},
        {{60, 115, 62, 98, 111, 115, 60, 47, 115, 62, 32, 60, 117, 110, 107, 62}, nullptr, nullptr},
        {{97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97, 97}, nullptr, nullptr},
        {{261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 261, 269, 32, 120}, nullptr, nullptr},
    },
    {  // sp_legacy
        {{259, 293, 264, 357, 274, 368, 432, 377, 374, 297, 297, 379, 387, 259, 289, 300, 299, 326, 305, 322}, nullptr, nullptr},
        {{343, 413, 264, 260, 263, 268, 273, 266, 350, 259, 279, 277, 260, 268, 271, 268, 273, 266, 343}, nullptr, nullptr},
        {{398, 407, 353, 329, 327, 13, 363, 341, 447, 353, 13}, nullptr, nullptr},
        {{413, 268, 273, 264, 313, 16, 13, 271, 268, 273, 264, 314, 13, 13, 13, 343, 264, 273, 263}, nullptr, nullptr},
        {{446, 436, 313, 317, 321, 259, 48, 316, 314}, nullptr, nullptr},
        {{259, 273, 260, 198, 178, 281, 264, 259, 262, 260, 265, 264, 207, 132, 259, 311, 198, 191, 277, 268, 262, 267}, nullptr, nullptr},
        {{259, 332, 333, 232, 139, 137, 235, 178, 144, 233, 184, 142, 235, 178, 152, 242, 191, 143, 334, 335, 231, 187, 153, 234, 152, 143, 230, 131, 133}, nullptr, nullptr},
        {{259, 264, 272, 274, 269, 268, 259, 243, 162, 148, 144, 243, 162, 146, 192, 350, 259, 243, 162, 169, 156}, nullptr, nullptr},
        {{448, 259, 280, 278, 264, 277, 13, 267, 268, 63, 127, 268, 272, 98, 264, 273, 263, 127, 65, 13, 448, 341, 278, 278, 268, 278, 279, 260, 273, 279, 13}, "<|im_start|> user\nhi<|im_end|>\n<|im_start|> assistant\n", "user\nhi<|im_end|>\n assistant\n"},
        {{259, 279, 264, 283, 279, 259, 63, 127, 268, 272, 98, 264, 273, 263, 127, 65, 343, 341, 265, 279, 264, 277}, nullptr, nullptr},
        {{341, 343, 63, 279, 267, 268, 273, 270, 65, 343, 261, 63, 279, 267, 268, 273, 270, 65, 262}, nullptr, nullptr},
        {{259, 293, 264, 357, 274, 372, 259, 293, 264, 357, 274, 324, 259, 293, 264, 357, 274, 309, 259, 283, 293, 264, 357, 274}, nullptr, nullptr},
        {{259, 262, 260, 261, 341, 261, 341, 261, 322, 341, 261, 262}, nullptr, nullptr},
        {{259, 283, 343, 259, 94, 298, 286, 304, 296, 96, 259, 284, 94, 298, 286, 304, 296, 96}, nullptr, nullptr},
        {{259, 198, 172, 259, 264, 207, 132, 259, 198, 172, 198, 172}, nullptr, nullptr},
        {{449, 350, 424, 367}, nullptr, nullptr},
        {{259, 12, 12, 279, 260, 261, 278, 12, 260, 273, 263, 197, 163, 273, 261, 278, 275, 230, 131, 131, 268, 263, 264, 274, 266, 277, 260, 275, 267, 268, 262}, nullptr, nullptr},
        {{259, 326, 278, 259, 326, 304, 259, 326, 200, 194, 259, 326, 357}, nullptr, nullptr},
        {{}, nullptr, nullptr},
        {{1, 353, 274, 278, 2, 343, 0}, "<s> bos</s>  <unk>", "bos  "},
        {{341, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260}, nullptr, nullptr},
        {{358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 343, 259, 283}, nullptr, nullptr},
    },
    {  // sp_metaspace_first
        {{259, 293, 264, 357, 274, 368, 432, 377, 374, 297, 297, 379, 387, 259, 289, 300, 299, 326, 305, 322}, nullptr, nullptr},
        {{343, 271, 264, 260, 263, 268, 273, 266, 350, 259, 279, 277, 260, 268, 271, 268, 273, 266, 343}, "leading and trailing  ", nullptr},
        {{398, 407, 353, 329, 327, 13, 363, 341, 447, 353, 13}, nullptr, nullptr},
        {{413, 268, 273, 264, 313, 16, 13, 271, 268, 273, 264, 314, 13, 13, 13, 343, 264, 273, 263}, nullptr, nullptr},
        {{446, 436, 313, 317, 321, 259, 48, 316, 314}, nullptr, nullptr},
        {{259, 273, 260, 198, 178, 281, 264, 259, 262, 260, 265, 264, 207, 132, 259, 311, 198, 191, 277, 268, 262, 267}, nullptr, nullptr},
        {{259, 332, 333, 232, 139, 137, 235, 178, 144, 233, 184, 142, 235, 178, 152, 242, 191, 143, 334, 335, 231, 187, 153, 234, 152, 143, 230, 131, 133}, nullptr, nullptr},
        {{259, 264, 272, 274, 269, 268, 259, 243, 162, 148, 144, 243, 162, 146, 192, 350, 259, 243, 162, 169, 156}, nullptr, nullptr},
        {{448, 280, 278, 264, 277, 13, 267, 268, 63, 127, 268, 272, 98, 264, 273, 263, 127, 65, 13, 448, 260, 278, 278, 268, 278, 279, 260, 273, 279, 13}, nullptr, "user\nhi<|im_end|>\nassistant\n"},
        {{259, 279, 264, 283, 279, 259, 63, 127, 268, 272, 98, 264, 273, 263, 127, 65, 343, 341, 265, 279, 264, 277}, nullptr, nullptr},
        {{341, 343, 63, 279, 267, 268, 273, 270, 65, 343, 261, 63, 279, 267, 268, 273, 270, 65, 262}, nullptr, nullptr},
        {{259, 293, 264, 357, 274, 372, 259, 293, 264, 357, 274, 324, 259, 293, 264, 357, 274, 309, 259, 283, 293, 264, 357, 274}, nullptr, nullptr},
        {{259, 262, 260, 261, 341, 261, 341, 261, 322, 341, 261, 262}, nullptr, nullptr},
        {{259, 283, 343, 259, 94, 298, 286, 304, 296, 96, 259, 284, 94, 298, 286, 304, 296, 96}, nullptr, nullptr},
        {{259, 198, 172, 259, 264, 207, 132, 259, 198, 172, 198, 172}, nullptr, nullptr},
        {{449, 350, 424, 367}, nullptr, nullptr},
        {{259, 12, 12, 279, 260, 261, 278, 12, 260, 273, 263, 197, 163, 273, 261, 278, 275, 230, 131, 131, 268, 263, 264, 274, 266, 277, 260, 275, 267, 268, 262}, nullptr, nullptr},
        {{259, 326, 278, 259, 326, 304, 259, 326, 200, 194, 259, 326, 357}, nullptr, nullptr},
        {{}, nullptr, nullptr},
        {{1, 261, 274, 278, 2, 259, 0}, nullptr, "bos "},
        {{341, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260}, nullptr, nullptr},
        {{358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 358, 343, 283}, "                                                                  x", nullptr},
    },
    {  // sp_unk_split
        {{259, 293, 264, 357, 274, 368, 432, 377, 374, 297, 297, 379, 387, 259, 289, 300, 299, 326, 305, 322}, nullptr, nullptr},
        {{259, 413, 264, 260, 263, 268, 273, 266, 350, 259, 279, 277, 260, 268, 271, 268, 273, 266, 259, 259}, " leading and trailing  ", nullptr},
        {{398, 407, 353, 329, 327, 0, 259, 259, 259, 259, 340, 279, 280, 277, 273, 341, 447, 353, 0}, "def add(a, b):<unk>    return a + b<unk>", "def add(a, b):    return a + b"},
        {{413, 268, 273, 264, 313, 0, 0, 271, 268, 273, 264, 314, 0, 0, 0, 259, 259, 264, 273, 263}, "line1<unk><unk>line2<unk><unk><unk>  end", "line1line2  end"},
        {{446, 436, 313, 317, 321, 259, 0, 316, 314}, "1234567890 3.14159 <unk>42", "1234567890 3.14159 42"},
        {{259, 273, 260, 0, 281, 264, 259, 262, 260, 265, 264, 0, 259, 311, 0, 277, 268, 262, 267}, "na<unk>ve cafe<unk> Z<unk>rich", "nave cafe Zrich"},
        {{259, 332, 333, 0, 0, 0, 0, 0, 334, 335, 0, 0, 0}, "\344\270\255\346\226\207<unk><unk><unk><unk><unk>\344\275\240\345\245\275<unk><unk><unk>", "\344\270\255\346\226\207\344\275\240\345\245\275"},
        {{259, 264, 272, 274, 269, 268, 259, 0, 0, 350, 259, 0}, "emoji <unk><unk> and <unk>", "emoji  and "},
        {{448, 259, 280, 278, 264, 277, 0, 267, 268, 0, 0, 268, 272, 0, 264, 273, 263, 0, 0, 0, 448, 341, 278, 278, 268, 278, 279, 260, 273, 279, 0}, "<|im_start|> user<unk>hi<unk><unk>im<unk>end<unk><unk><unk><|im_start|> assistant<unk>", "userhiimend assistant"},
        {{259, 279, 264, 283, 279, 259, 0, 0, 268, 272, 0, 264, 273, 263, 0, 0, 259, 259, 341, 265, 279, 264, 277}, "text <unk><unk>im<unk>end<unk><unk>   after", "text imend   after"},
        {{341, 259, 259, 0, 279, 267, 268, 273, 270, 0, 259, 353, 0, 279, 267, 268, 273, 270, 0, 262}, "a  <unk>think<unk>  b<unk>think<unk>c", "a  think  bthinkc"},
        {{259, 293, 264, 357, 274, 372, 259, 293, 264, 357, 274, 324, 259, 293, 264, 357, 274, 309, 259, 283, 293, 264, 357, 274}, nullptr, nullptr},
        {{259, 262, 260, 261, 341, 261, 341, 261, 322, 341, 261, 262}, nullptr, nullptr},
        {{259, 283, 259, 259, 259, 0, 298, 286, 304, 296, 0, 259, 284, 0, 298, 286, 304, 296, 0}, "x   <unk>MASK<unk> y<unk>MASK<unk>", "x   MASK yMASK"},
        {{259, 0, 259, 264, 0, 259, 0, 0}, "<unk> e<unk> <unk><unk>", " e "},
        {{449, 350, 424, 367}, nullptr, nullptr},
        {{259, 0, 0, 279, 260, 261, 278, 0, 260, 273, 263, 0, 273, 261, 278, 275, 0, 268, 263, 264, 274, 266, 277, 260, 275, 267, 268, 262}, "<unk><unk>tabs<unk>and<unk>nbsp<unk>ideographic", "tabsandnbspideographic"},
        {{259, 326, 278, 259, 326, 304, 259, 326, 0, 259, 326, 357}, "'s 'S '<unk> 'll", "'s 'S ' 'll"},
        {{}, nullptr, nullptr},
        {{1, 353, 274, 278, 2, 259, 0}, "<s> bos</s> <unk>", "bos "},
        {{341, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260, 260}, nullptr, nullptr},
        {{259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 259, 283}, "                                                                     x", nullptr},
    },
};

std::string config_json(const Config& c) {
  return std::string("{\"version\":\"1.0\",\"added_tokens\":") + c.added_tokens +
         ",\"normalizer\":" + c.normalizer + ",\"pre_tokenizer\":" + c.pre_tokenizer +
         ",\"post_processor\":null,\"decoder\":" + c.decoder + ",\"model\":{" + c.model_options +
         ",\"vocab\":" + (c.sentencepiece ? kSpVocab : kByteVocab) +
         ",\"merges\":" + (c.sentencepiece ? kSpMerges : kByteMerges) + "}}";
}

TEST(TokenizerHfCases, MatchHuggingFace) {
  size_t n_configs = sizeof(kConfigs) / sizeof(kConfigs[0]);
  size_t n_texts = sizeof(kTexts) / sizeof(kTexts[0]);
  ASSERT_EQ(kExpected.size(), n_configs);
  for (size_t c = 0; c < n_configs; ++c) {
    auto tok = Tokenizer::load_json(config_json(kConfigs[c]), kConfigs[c].name);
    ASSERT_TRUE(tok.ok()) << tok.message();
    ASSERT_EQ(kExpected[c].size(), n_texts);
    for (size_t t = 0; t < n_texts; ++t) {
      const Expected& e = kExpected[c][t];
      std::string decoded = e.decoded ? e.decoded : kTexts[t];
      std::string skipped = e.decoded_skip ? e.decoded_skip : decoded;
      SCOPED_TRACE(std::string(kConfigs[c].name) + ": \"" + kTexts[t] + "\"");
      EXPECT_EQ(tok->encode(kTexts[t]), e.ids);
      EXPECT_EQ(tok->decode(e.ids), decoded);
      EXPECT_EQ(tok->decode(e.ids, true), skipped);
      for (bool skip : {false, true}) {
        StreamDecoder stream(*tok, skip);
        std::string all;
        for (int32_t id : e.ids) all += stream.step(id);
        all += stream.flush();
        EXPECT_EQ(all, skip ? skipped : decoded);
      }
    }
  }
}

}  // namespace
}  // namespace hearth
